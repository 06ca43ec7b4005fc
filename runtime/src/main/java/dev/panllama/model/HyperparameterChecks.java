package dev.panllama.model;

import dev.panllama.gguf.TensorSource;
import dev.panllama.tensor.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a model's hyper-parameters against the tensors of its file before any weight is loaded or any
 * buffer is sized from them, so that a count which does not describe the file fails at load naming the
 * key, its value and the tensor it contradicts
 * ({@code llama.block_count = 1000000000, but the file has tensors for 2 blocks (blk.0..blk.1)}); and,
 * once the weights are loaded, that the model used every tensor of the file. Every architecture's
 * loader goes through here ({@link ArchitectureWeights#load}). Each key is checked against the first tensor it
 * sizes; {@link WeightShapes} then checks every tensor's whole shape as it loads.
 *
 * <p>llama.cpp refuses the same files: it creates each tensor with the shape its hyper-parameters give
 * (llama_model_loader::create_tensor, "tensor X has wrong shape") and then refuses a file holding
 * tensors it did not create (llama_model_loader::done_getting_tensors, "wrong number of tensors;
 * expected N, got M").
 */
final class HyperparameterChecks {
    /** llama.cpp names a block's tensors {@code blk.%d.NAME} (llama-arch.cpp, LLM_TENSOR_NAMES). */
    private static final Pattern BLOCK = Pattern.compile("^blk\\.(\\d+)\\.");

    private final TensorSource source;
    private final ModelConfig config;
    private final HyperparameterKeys keys;

    HyperparameterChecks(TensorSource source, ModelConfig config) {
        this.source = source;
        this.config = config;
        this.keys = new HyperparameterKeys(source.metadata(), config.arch().ggufName());
    }

    /**
     * llama, qwen2, qwen3, qwen3moe and Mixtral-style llama. As in llama.cpp's tensor creation for these
     * architectures, either every block routes to experts (expert_count > 0) or none does.
     */
    void llamaFamily() {
        common(config.isMoe() ? 0 : config.blockCount(), null);
        String keyLength = "attention.key_length", valueLength = "attention.value_length";
        agree(product("attention.head_count", config.headCount(), keyLength, config.headDimK()), "blk.0.attn_q.weight", 1);
        agree(product("attention.head_count_kv", config.headCountKv(), keyLength, config.headDimK()), "blk.0.attn_k.weight", 1);
        agree(product("attention.head_count_kv", config.headCountKv(), valueLength, config.headDimV()), "blk.0.attn_v.weight", 1);
    }

    /** deepseek2: the latent attention's ranks and head sizes, then the routing against the expert counts. */
    void deepseek2(Deepseek2Config dc) {
        common(config.isMoe() ? dc.leadingDenseBlocks() : config.blockCount(), named("leading_dense_block_count", dc.leadingDenseBlocks()));
        String b = "blk.0.";
        agree(new Expected(named("attention.kv_lora_rank", dc.kvLoraRank()), dc.kvLoraRank()), b + "attn_kv_a_norm.weight", 0);
        agree(new Expected(keys.key("attention.kv_lora_rank") + " + rope.dimension_count = " + dc.kvLoraRank() + " + " + dc.ropeDim()
                + " = " + dc.latentDim(), dc.latentDim()), b + "attn_kv_a_mqa.weight", 1);
        if (dc.qLoraRank() > 0) {
            agree(new Expected(named("attention.q_lora_rank", dc.qLoraRank()), dc.qLoraRank()), b + "attn_q_a.weight", 1);
        } else if (source.hasTensor(b + "attn_q_a.weight")) {
            throw keys.invalid("attention.q_lora_rank", keys.contains("attention.q_lora_rank") ? "0" : "0 (default)",
                    "the file has tensor '" + b + "attn_q_a.weight' (a low-rank query) where a plain attn_q was expected");
        }
        String keyLength = dc.latentLayout() ? "attention.key_length_mla" : "attention.key_length";
        String valueLength = dc.latentLayout() ? "attention.value_length_mla" : "attention.value_length";
        agree(product("attention.head_count", config.headCount(), keyLength, dc.qkHeadDim()),
                b + (dc.qLoraRank() > 0 ? "attn_q_b.weight" : "attn_q.weight"), 1);
        agree(product("attention.head_count", config.headCount(), valueLength, dc.vDim()), b + "attn_output.weight", 0);
        if (dc.routing() != null) dc.routing().validate(config.expertCount(), config.expertUsedCount());
    }

    /**
     * The checks all architectures share: blocks, embeddings, experts and the dense feed-forward.
     *
     * @param firstMoe the first block that routes to experts ({@code blockCount} when none does)
     * @param leading  the key and value that set {@code firstMoe} (deepseek2's leading dense blocks), or null
     */
    private void common(int firstMoe, String leading) {
        blocks();
        Tensor emb = tensor("token_embd.weight");
        agree(new Expected(named("embedding_length", config.embeddingLength()), config.embeddingLength()), emb, 0);
        if (keys.contains("vocab_size")) agree(new Expected(named("vocab_size", config.vocabSize()), config.vocabSize()), emb, 1);
        experts(firstMoe, leading);
        if (firstMoe > 0) {
            int ff = config.feedForwardLength();
            if (ff == 0) throw keys.invalid("feed_forward_length", keys.contains("feed_forward_length") ? "0" : "0 (missing)",
                    "block 0 has a dense feed-forward, which needs it");
            agree(new Expected(named("feed_forward_length", ff), ff), "blk.0.ffn_gate.weight", 1);
        }
    }

    /** block_count must be the number of blocks whose tensors the file holds, blk.0 to blk.(block_count - 1). */
    private void blocks() {
        int layers = config.blockCount();
        long highest = -1;
        for (Tensor t : source.tensors()) {
            Matcher m = BLOCK.matcher(t.name());
            if (!m.find()) continue;
            String digits = m.group(1);
            long block = digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
            if (block >= layers) {
                throw new IllegalArgumentException("wrong number of tensors: tensor '" + t.name() + "' is in block " + digits
                        + ", but " + keys.key("block_count") + " = " + layers + " (" + blockRange(layers - 1) + ")");
            }
            highest = Math.max(highest, block);
        }
        if (highest + 1 < layers) {
            throw keys.invalid("block_count", layers, highest < 0 ? "the file has no block tensors (blk.N.*)"
                    : "the file has tensors for " + (highest + 1) + (highest == 0 ? " block (" : " blocks (") + blockRange(highest) + ")");
        }
    }

    private static String blockRange(long last) {
        return last == 0 ? "blk.0" : "blk.0..blk." + last;
    }

    /**
     * expert_count must be the router's width in the first routed block, expert_used_count within it,
     * and the experts' feed-forward length their tensors'; a dense model has neither a router nor
     * expert_used_count (llama.cpp: load_hparams asserts n_expert_used == 0 without experts).
     *
     * @param leading the key and value that set {@code firstMoe}, or null
     */
    private void experts(int firstMoe, String leading) {
        int n = config.expertCount();
        int used = config.expertUsedCount();
        if (n == 0) {
            for (Tensor t : source.tensors()) {
                if (t.name().endsWith(".ffn_gate_inp.weight")) {
                    throw new IllegalArgumentException("tensor '" + t.name() + "' routes tokens to experts, but " + keys.key("expert_count")
                            + " is " + presence("expert_count"));
                }
            }
            if (used != 0) throw keys.invalid("expert_used_count", used, keys.key("expert_count") + " is " + presence("expert_count") + " (a dense model)");
            return;
        }
        if (firstMoe >= config.blockCount()) return;     // deepseek2 whose blocks are all dense
        String b = "blk." + firstMoe + ".";
        Tensor router = source.findTensor(b + "ffn_gate_inp.weight").orElseThrow(() -> keys.invalid("expert_count", n,
                "the file has no expert router '" + b + "ffn_gate_inp.weight'"
                        + (source.hasTensor(b + "ffn_gate.weight") ? " (block " + firstMoe + " has a dense feed-forward"
                                + (leading != null ? "; " + leading : "") + ")" : "")));
        String lastDense = "blk." + (firstMoe - 1) + ".ffn_gate_inp.weight";
        if (firstMoe > 0 && source.hasTensor(lastDense)) {
            throw new IllegalArgumentException(leading + ", but block " + (firstMoe - 1) + " routes to experts ('" + lastDense + "')");
        }
        agree(new Expected(named("expert_count", n), n), router, 1);
        if (used < 1 || used > n) {
            throw keys.invalid("expert_used_count", keys.contains("expert_used_count") ? Integer.toString(used) : "0 (missing)",
                    "it must be in [1, " + n + "] (" + keys.key("expert_count") + " = " + n + ")");
        }
        int eff = config.expertFeedForwardLength();
        String effKey = keys.contains("expert_feed_forward_length") ? "expert_feed_forward_length" : "feed_forward_length";
        if (eff == 0) throw keys.invalid("expert_feed_forward_length", "0 (missing)", "the experts need their feed-forward length");
        agree(new Expected(named(effKey, eff), eff), b + "ffn_gate_exps.weight", 1);
    }

    /**
     * After the weights are loaded: the model used every tensor of the file. llama.cpp refuses a file
     * with tensors it did not create ("wrong number of tensors"); so do we, naming the first one.
     */
    void allTensorsUsed(Set<String> used) {
        List<Tensor> all = source.tensors();
        if (used.size() == all.size()) return;          // every used name is a tensor of the file
        List<String> unused = all.stream().map(Tensor::name).filter(name -> !used.contains(name)).toList();
        throw new IllegalArgumentException("wrong number of tensors: the file has " + all.size() + ", a " + config.arch().ggufName()
                + " model with these hyper-parameters uses " + used.size() + "; tensor '" + unused.getFirst() + "' is not used"
                + (unused.size() > 1 ? " (nor are " + (unused.size() - 1) + " more)" : ""));
    }

    /** A size the hyper-parameters give a tensor dimension, and how they give it, for the message. */
    private record Expected(String how, long value) {}

    private void agree(Expected e, String tensor, int dim) {
        agree(e, tensor(tensor), dim);
    }

    private static void agree(Expected e, Tensor t, int dim) {
        if (t.ne(dim) != e.value()) {
            throw new IllegalArgumentException(e.how() + ", but tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                    + " (ne[" + dim + "] = " + t.ne(dim) + ")");
        }
    }

    private Tensor tensor(String name) {
        return source.findTensor(name).orElseThrow(() -> new IllegalArgumentException("missing tensor '" + name + "'"));
    }

    /** {@code llama.expert_count = 8}, with "(default)" when the file does not have the key. */
    private String named(String name, long value) {
        return keys.key(name) + " = " + value + (keys.contains(name) ? "" : " (default)");
    }

    /** {@code llama.attention.head_count * attention.key_length = 4 * 64 = 256}. */
    private Expected product(String a, int va, String b, int vb) {
        long v = (long) va * vb;
        // ModelConfig: without the key, a head is embedding_length / head_count wide (llama.cpp's default too).
        return new Expected(keys.key(a) + " * " + b + " = " + va + " * " + vb
                + (keys.contains(b) ? "" : " (" + b + " absent: embedding_length / head_count)") + " = " + v, v);
    }

    private String presence(String name) {
        return keys.contains(name) ? "0" : "missing";
    }
}
