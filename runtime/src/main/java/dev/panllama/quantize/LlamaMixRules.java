package dev.panllama.quantize;

import dev.panllama.tensor.GgmlType;

import java.util.Locale;
import java.util.Set;

import static dev.panllama.tensor.GgmlType.Q3_K;
import static dev.panllama.tensor.GgmlType.Q4_K;
import static dev.panllama.tensor.GgmlType.Q5_K;
import static dev.panllama.tensor.GgmlType.Q6_K;
import static dev.panllama.tensor.GgmlType.Q8_0;

/**
 * llama-quantize's per-tensor choice within a mix, for the mixes panllama offers: the rules of
 * llama.cpp's src/llama-quant.cpp (llama_tensor_get_type_impl, ggml-org/llama.cpp 2026), restated.
 *
 * <p>The rules are stateful, like llama.cpp's: attn_v-like tensors and, in dense models, ffn_down are
 * numbered in the order they are seen, which is llama.cpp's tensor order (by layer, then by name;
 * see {@link QuantPlanner}), so the n-th such tensor stands for layer n. Models with experts take the
 * layer from the tensor's name instead. Call {@link #choose} once per quantizable tensor, in order.
 */
final class LlamaMixRules {
    /** A type and the rule that chose it, in words. */
    record Choice(GgmlType type, String reason) {}

    /** The mixes whose attn_output llama.cpp raises to Q5_K in 8-expert models. */
    private static final Set<QuantMix> EIGHT_EXPERT_ATTN_OUTPUT_Q5_K = Set.of(
            QuantMix.Q2_K, QuantMix.Q3_K_S, QuantMix.Q3_K_M, QuantMix.IQ4_NL, QuantMix.Q4_K_S, QuantMix.Q4_K_M, QuantMix.IQ4_XS);

    private final QuantMix mix;
    private final ModelFacts model;
    private final boolean hasImatrix;
    private final boolean tiedEmbeddings;
    private final GgmlType outputType;
    private final int attnVCount;
    private int attnVSeen;
    private int ffnDownSeen;

    /**
     * @param tiedEmbeddings the model has no output.weight, so token_embd doubles as the output matrix
     * @param outputType     --output-tensor-type (null if not given), which tied embeddings follow too
     * @param attnVCount     how many attn_v-like tensors the model has (llama.cpp's n_attention_wv)
     */
    LlamaMixRules(QuantMix mix, ModelFacts model, boolean hasImatrix, boolean tiedEmbeddings, GgmlType outputType, int attnVCount) {
        this.mix = mix;
        this.model = model;
        this.hasImatrix = hasImatrix;
        this.tiedEmbeddings = tiedEmbeddings;
        this.outputType = outputType;
        this.attnVCount = attnVCount;
    }

    /** llama.cpp's use_more_bits: the first and last eighth of the layers, and every third layer between. */
    static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    Choice choose(String name, TensorRole role, long ne0) {
        GgmlType base = mix.defaultType();
        if (role == TensorRole.OUTPUT || (tiedEmbeddings && role == TensorRole.TOKEN_EMBD)) {
            String what = role == TensorRole.OUTPUT ? "output" : "token_embd (tied to the output)";
            if (outputType != null) return new Choice(outputType, what + ": --output-tensor-type");
            if (model.isFalcon() || ne0 % base.blockSize() != 0) {
                return new Choice(Q8_0, what + ": rows not whole " + base.ggmlName() + " blocks (or falcon) -> q8_0");
            }
            if (base != Q8_0) return new Choice(Q6_K, what + ": llama.cpp gives the output matrix q6_K");
            return new Choice(base, what + ": mix type");
        }
        return switch (role) {
            case ATTN_V, ATTN_QKV, ATTN_KV_B -> attnV(base);
            case ATTN_K -> model.experts() == 8
                    ? new Choice(Q8_0, "attn_k in an 8-expert model -> q8_0")
                    : mixDefault(base);
            case FFN_DOWN -> ffnDown(name, base);
            case ATTN_OUTPUT -> attnOutput(base);
            case FFN_GATE, FFN_UP -> {
                // llama.cpp numbers these too but none of panllama's mixes has a rule for them;
                // the layer is still checked, as llama.cpp does.
                layerOf(name, 0);
                yield mixDefault(base);
            }
            default -> mixDefault(base);
        };
    }

    private Choice attnV(GgmlType base) {
        int i = attnVSeen++;
        int n = attnVCount;
        GgmlType t = base;
        String why = null;
        int gqa = model.gqa();
        switch (mix) {
            case Q2_K -> {
                t = gqa >= 4 ? Q4_K : Q3_K;
                why = gqa >= 4 ? "Q2_K: attn_v with GQA " + gqa + " >= 4" : "Q2_K: attn_v";
            }
            case Q3_K_M -> {
                t = i < 2 ? Q5_K : Q4_K;
                why = "Q3_K_M: attn_v #" + i + (i < 2 ? " (first two)" : "");
            }
            case Q3_K_L -> {
                t = Q5_K;
                why = "Q3_K_L: attn_v";
            }
            case IQ4_NL, IQ4_XS -> {
                if (gqa >= 4) {
                    t = Q5_K;
                    why = mix + ": attn_v with GQA " + gqa + " >= 4";
                }
            }
            case Q4_K_M, Q5_K_M -> {
                if (useMoreBits(i, n)) {
                    t = Q6_K;
                    why = mix + ": attn_v #" + i + " of " + n + " in use_more_bits";
                }
            }
            case Q4_K_S -> {
                if (i < 4) {
                    t = Q5_K;
                    why = "Q4_K_S: attn_v #" + i + " (first four)";
                }
            }
            default -> { }
        }
        if (model.isLlama70B() && (t == Q3_K || t == Q4_K)) {
            t = Q5_K;
            why = "attn_v of a 70B llama";
        }
        if (model.experts() == 8) {
            t = Q8_0;
            why = "attn_v in an 8-expert model";
        }
        return why == null ? mixDefault(base) : new Choice(t, why + " -> " + t.ggmlName());
    }

    private Choice ffnDown(String name, GgmlType base) {
        int layer = layerOf(name, ffnDownSeen++);
        int n = model.layers();
        boolean more = useMoreBits(layer, n);
        boolean falcon = model.isFalcon();
        String at = " (layer " + layer + " of " + n + ")";
        GgmlType t = null;
        String why = null;
        switch (mix) {
            case Q2_K -> {
                t = Q3_K;
                why = "Q2_K: ffn_down";
            }
            case Q3_K_M -> {
                t = layer < n / 16 ? Q5_K : !falcon || more ? Q4_K : Q3_K;
                why = "Q3_K_M: ffn_down" + (layer < n / 16 ? " in the first sixteenth" : "");
            }
            case Q3_K_L -> {
                t = falcon ? Q4_K : Q5_K;
                why = "Q3_K_L: ffn_down";
            }
            case Q4_K_M -> {
                if (falcon) {
                    t = layer < n / 16 ? Q6_K : more ? Q5_K : Q4_K;
                    why = "Q4_K_M: falcon ffn_down";
                } else if (more) {
                    t = Q6_K;
                    why = "Q4_K_M: ffn_down in use_more_bits";
                }
            }
            case IQ4_NL, IQ4_XS -> {
                if (layer < n / 8 && !hasImatrix) {
                    t = Q5_K;
                    why = mix + ": ffn_down in the first eighth, no imatrix";
                }
            }
            case Q5_K_M -> {
                if (more) {
                    t = Q6_K;
                    why = "Q5_K_M: ffn_down in use_more_bits";
                }
            }
            case Q4_K_S -> {
                if (!falcon && layer < n / 8) {
                    t = Q5_K;
                    why = "Q4_K_S: ffn_down in the first eighth";
                }
            }
            case Q4_0, Q5_0 -> {
                if (hasImatrix && layer < n / 8) {
                    t = mix == QuantMix.Q4_0 ? GgmlType.Q4_1 : GgmlType.Q5_1;
                    why = mix + " with imatrix: ffn_down in the first eighth";
                }
            }
            default -> { }
        }
        return t == null ? mixDefault(base) : new Choice(t, why + at + " -> " + t.ggmlName());
    }

    private Choice attnOutput(GgmlType base) {
        GgmlType t = null;
        if (model.isFalcon()) {
            if (mix == QuantMix.Q3_K_L) t = Q4_K;
        } else if (model.experts() == 8) {
            if (EIGHT_EXPERT_ATTN_OUTPUT_Q5_K.contains(mix)) t = Q5_K;
        } else {
            t = switch (mix) {
                case Q2_K -> Q3_K;
                case Q3_K_M -> Q4_K;
                case Q3_K_L -> Q5_K;
                default -> null;
            };
        }
        if (t == null) return mixDefault(base);
        String where = model.experts() == 8 ? " in an 8-expert model" : "";
        return new Choice(t, mix + ": attn_output" + where + " -> " + t.ggmlName());
    }

    /**
     * The layer a rule applies to: in a dense model llama.cpp counts the tensors of the role; in one
     * with experts it reads {@code blk.N.} from the name (expert tensors were not always contiguous).
     */
    private int layerOf(String name, int counted) {
        if (!model.isMoe()) return counted;
        int layer = TensorRole.layerOf(name);
        if (layer < 0) throw new IllegalArgumentException("cannot determine the layer of tensor " + name);
        if (layer >= model.layers()) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "tensor %s is in layer %d, but the model has %d layers",
                    name, layer, model.layers()));
        }
        return layer;
    }

    private Choice mixDefault(GgmlType base) {
        return new Choice(base, "mix type");
    }
}
