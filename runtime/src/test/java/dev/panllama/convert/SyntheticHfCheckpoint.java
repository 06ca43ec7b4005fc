package dev.panllama.convert;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panllama.safetensors.SafetensorsDType;
import dev.panllama.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Writes a Hugging Face checkpoint with random FP8 weights in one of the three scale layouts, in one
 * or several safetensors shards: the input of the FP8 conversion tests, and (through {@link #main}) of
 * the heap measurement on a multi-gigabyte checkpoint. No tokenizer: use --vocab-from.
 *
 * @param arch    "llama" or "qwen3moe"
 * @param fp8     F8_E4M3 or F8_E5M2
 * @param shards  files to spread the layers over; more than one writes model.safetensors.index.json
 */
public record SyntheticHfCheckpoint(String arch, int hidden, int ff, int heads, int kvHeads, int layers, int vocab,
                                    int experts, Scales scales, SafetensorsDType fp8, int shards, long seed) {

    /** The three scale layouts of FP8 checkpoints. */
    public enum Scales {
        /** DeepSeek: weight_scale_inv [ceil(out/128), ceil(in/128)], quant_method fp8 with weight_block_size. */
        BLOCK,
        /** AutoFP8: one weight_scale per tensor (shape []), static activation scales beside it. */
        TENSOR,
        /** compressed-tensors: weight_scale [out, 1]. */
        CHANNEL
    }

    static final int BLOCK_SIZE = 128;

    public static SyntheticHfCheckpoint llama(int hidden, int ff, int layers, int vocab, Scales scales) {
        return new SyntheticHfCheckpoint("llama", hidden, ff, 4, 2, layers, vocab, 0, scales, SafetensorsDType.F8_E4M3, 1, 7);
    }

    public SyntheticHfCheckpoint withFp8(SafetensorsDType t) {
        return new SyntheticHfCheckpoint(arch, hidden, ff, heads, kvHeads, layers, vocab, experts, scales, t, shards, seed);
    }

    public SyntheticHfCheckpoint withShards(int n) {
        return new SyntheticHfCheckpoint(arch, hidden, ff, heads, kvHeads, layers, vocab, experts, scales, fp8, n, seed);
    }

    public SyntheticHfCheckpoint withHeads(int h, int kv) {
        return new SyntheticHfCheckpoint(arch, hidden, ff, h, kv, layers, vocab, experts, scales, fp8, shards, seed);
    }

    public SyntheticHfCheckpoint moe(int expertCount) {
        return new SyntheticHfCheckpoint("qwen3moe", hidden, ff, heads, kvHeads, layers, vocab, expertCount, scales, fp8, shards, seed);
    }

    /** Bytes of tensor data the checkpoint will hold. */
    public long tensorBytes() {
        long n = 0;
        for (Planned p : plan()) n += p.bytes();
        return n;
    }

    private record Planned(String name, SafetensorsDType dtype, long[] shape, int layer) {
        long bytes() {
            long n = dtype.byteSize();
            for (long d : shape) n *= d;
            return n;
        }
    }

    private List<Planned> plan() {
        List<Planned> t = new ArrayList<>();
        int headDim = hidden / heads;
        t.add(new Planned("model.embed_tokens.weight", SafetensorsDType.BF16, new long[]{vocab, hidden}, -1));
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            t.add(new Planned(p + "input_layernorm.weight", SafetensorsDType.F32, new long[]{hidden}, l));
            t.add(new Planned(p + "post_attention_layernorm.weight", SafetensorsDType.F32, new long[]{hidden}, l));
            linear(t, p + "self_attn.q_proj", heads * headDim, hidden, l);
            linear(t, p + "self_attn.k_proj", kvHeads * headDim, hidden, l);
            linear(t, p + "self_attn.v_proj", kvHeads * headDim, hidden, l);
            linear(t, p + "self_attn.o_proj", hidden, heads * headDim, l);
            if (arch.equals("qwen3moe")) {
                t.add(new Planned(p + "self_attn.q_norm.weight", SafetensorsDType.F32, new long[]{headDim}, l));
                t.add(new Planned(p + "self_attn.k_norm.weight", SafetensorsDType.F32, new long[]{headDim}, l));
                t.add(new Planned(p + "mlp.gate.weight", SafetensorsDType.BF16, new long[]{experts, hidden}, l));
                for (int e = 0; e < experts; e++) {
                    String x = p + "mlp.experts." + e + ".";
                    linear(t, x + "gate_proj", ff, hidden, l);
                    linear(t, x + "up_proj", ff, hidden, l);
                    linear(t, x + "down_proj", hidden, ff, l);
                }
            } else {
                linear(t, p + "mlp.gate_proj", ff, hidden, l);
                linear(t, p + "mlp.up_proj", ff, hidden, l);
                linear(t, p + "mlp.down_proj", hidden, ff, l);
            }
        }
        t.add(new Planned("model.norm.weight", SafetensorsDType.F32, new long[]{hidden}, layers - 1));
        t.add(new Planned("lm_head.weight", SafetensorsDType.BF16, new long[]{vocab, hidden}, layers - 1));
        return t;
    }

    private void linear(List<Planned> t, String module, long out, long in, int layer) {
        t.add(new Planned(module + ".weight", fp8, new long[]{out, in}, layer));
        switch (scales) {
            case BLOCK -> t.add(new Planned(module + ".weight_scale_inv", SafetensorsDType.F32,
                    new long[]{(out + BLOCK_SIZE - 1) / BLOCK_SIZE, (in + BLOCK_SIZE - 1) / BLOCK_SIZE}, layer));
            case TENSOR -> {
                t.add(new Planned(module + ".weight_scale", SafetensorsDType.F32, new long[]{}, layer));
                t.add(new Planned(module + ".input_scale", SafetensorsDType.F32, new long[]{}, layer));
            }
            case CHANNEL -> t.add(new Planned(module + ".weight_scale", SafetensorsDType.F32, new long[]{out, 1}, layer));
        }
    }

    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config());
        List<Planned> plan = plan();
        SafetensorsWriter[] files = new SafetensorsWriter[shards];
        for (int i = 0; i < shards; i++) files[i] = new SafetensorsWriter();
        ObjectNode index = JsonMapper.builder().build().createObjectNode();
        ObjectNode map = index.putObject("weight_map");
        for (Planned p : plan) {
            int shard = (int) ((long) Math.max(p.layer, 0) * shards / layers);
            files[shard].add(p.name, p.dtype, p.shape, dst -> fill(p, dst));
            map.put(p.name, shardName(shard));
        }
        for (int i = 0; i < shards; i++) files[i].write(dir.resolve(shardName(i)));
        if (shards > 1) Files.writeString(dir.resolve("model.safetensors.index.json"), index.toPrettyString());
    }

    private String shardName(int i) {
        return shards == 1 ? "model.safetensors" : String.format("model-%05d-of-%05d.safetensors", i + 1, shards);
    }

    private String config() {
        ObjectNode c = JsonMapper.builder().build().createObjectNode();
        c.putArray("architectures").add(arch.equals("llama") ? "LlamaForCausalLM" : "Qwen3MoeForCausalLM");
        c.put("model_type", arch.equals("llama") ? "llama" : "qwen3_moe");
        c.put("hidden_size", hidden).put("intermediate_size", ff).put("num_attention_heads", heads)
                .put("num_key_value_heads", kvHeads).put("num_hidden_layers", layers).put("vocab_size", vocab)
                .put("rms_norm_eps", 1e-5).put("rope_theta", 10000.0).put("max_position_embeddings", 4096)
                .put("tie_word_embeddings", false);
        if (arch.equals("qwen3moe")) {
            c.put("num_experts", experts).put("num_experts_per_tok", 2).put("moe_intermediate_size", ff)
                    .put("head_dim", hidden / heads);
        }
        ObjectNode q = c.putObject("quantization_config");
        String fmt = fp8 == SafetensorsDType.F8_E5M2 ? "e5m2" : "e4m3";
        switch (scales) {
            case BLOCK -> {
                q.put("quant_method", "fp8").put("fmt", fmt).put("activation_scheme", "dynamic");
                q.putArray("weight_block_size").add(BLOCK_SIZE).add(BLOCK_SIZE);
            }
            case TENSOR -> q.put("quant_method", "fp8").put("fmt", fmt).put("activation_scheme", "static");
            case CHANNEL -> {
                q.put("quant_method", "compressed-tensors").put("format", "float-quantized");
                q.putObject("config_groups").putObject("group_0").putObject("weights")
                        .put("num_bits", 8).put("type", "float").put("strategy", "channel");
            }
        }
        return c.toPrettyString();
    }

    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Random bytes of the tensor's kind, seeded by its name: FP8 without NaN or infinity, BF16 near 0.01, scales and norms positive. */
    private void fill(Planned p, MemorySegment dst) {
        SplittableRandom rnd = new SplittableRandom(seed ^ fnv(p.name));
        long n = dst.byteSize();
        if (p.dtype == SafetensorsDType.F32) {
            boolean scale = p.name.contains("_scale");
            for (long i = 0; i < n / 4; i++) {
                float v = scale ? (float) Math.scalb(1 + rnd.nextDouble(), -8) : 1f + 0.05f * (float) (rnd.nextDouble() - 0.5);
                dst.set(F32, 4 * i, v);
            }
            return;
        }
        // FP8: clearing the top exponent bit keeps every code finite (|x| < 2 for E4M3, < 2^0 ... 2^15 for E5M2).
        // BF16: sign, exponent 2^-7, random mantissa.
        long mask = p.dtype == SafetensorsDType.BF16 ? 0x807F807F807F807FL : 0xBFBFBFBFBFBFBFBFL;
        long set = p.dtype == SafetensorsDType.BF16 ? 0x3C003C003C003C00L : 0;
        long i = 0;
        for (; i + 8 <= n; i += 8) dst.set(I64, i, (rnd.nextLong() & mask) | set);
        for (; i < n; i++) dst.set(ValueLayout.JAVA_BYTE, i, (byte) ((rnd.nextInt() & mask) | set));
    }

    private static long fnv(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /**
     * Writes a large block-scaled llama checkpoint for the heap measurement:
     * {@code SyntheticHfCheckpoint DIR LAYERS [SHARDS]}. Shape: n_embd 4096, n_ff 11008, 32/8 heads,
     * vocab 32000 (the Llama-2 vocabulary of ggml-vocab-llama-spm.gguf); 9 layers are about 2.1 GB.
     */
    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: SyntheticHfCheckpoint DIR LAYERS [SHARDS]");
            System.exit(2);
        }
        int layers = Integer.parseInt(args[1]);
        int shards = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        SyntheticHfCheckpoint c = new SyntheticHfCheckpoint("llama", 4096, 11008, 32, 8, layers, 32000, 0, Scales.BLOCK,
                SafetensorsDType.F8_E4M3, shards, 42);
        long start = System.nanoTime();
        c.write(Path.of(args[0]));
        System.out.printf(Locale.ROOT, "%s: %d layers, %,d bytes of tensors in %d shard(s), %.1f s%n", args[0], layers,
                c.tensorBytes(), shards, (System.nanoTime() - start) / 1e9);
    }
}
