package dev.panllama.quantize;

import dev.panllama.tensor.GgmlType;

import java.util.List;

/**
 * panllama's deliberate changes to llama-quantize's mixes for models with experts. They only ever
 * add bits to a tensor, never take them away, so every tensor gets at least what llama-quantize
 * would give it.
 *
 * <p>Why: llama.cpp's mixes were tuned on dense models and Mixtral. Its expert-specific rules test
 * {@code n_expert == 8}, so models with 4, 64, 128 or 256 experts (Qwen3-MoE, DeepSeek, ...) get a
 * dense model's mix; it knows nothing of shared experts or of MLA's split projections
 * (attn_k_b / attn_v_b). In a model with experts, the attention and shared-expert weights are a few
 * percent of the file but every token goes through them, while each routed expert sees only a
 * fraction of the tokens; bits spent there buy more than bits spent on the experts. The rules:
 * <ol>
 *   <li>the attention K/V path (attn_k, attn_v, attn_qkv, attn_kv_b, attn_k_b, attn_v_b) gets Q8_0,
 *       llama.cpp's own choice for 8 experts, now for any number;</li>
 *   <li>every other attention matrix (attn_q, attn_output, attn_q_a/q_b, attn_kv_a_mqa, ...) gets
 *       one step more than the mix's type and at least Q5_K;</li>
 *   <li>shared experts get one step more (gate, up) or two (down) than the mix's type;</li>
 *   <li>ffn_down in the first eighth of the layers (at least the first layer), dense or routed or
 *       shared, gets two steps more than the mix's type, up to Q6_K: early layers' errors propagate
 *       through the whole model, and llama.cpp's use_more_bits gives them more only in some mixes.</li>
 * </ol>
 * A step is one rung of Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_0 (4-bit types sit on the Q4_K rung, 5-bit
 * ones on the Q5_K rung).
 */
final class MoeMixRules {
    private static final List<GgmlType> LADDER = List.of(
            GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_0);

    private final QuantMix mix;
    private final ModelFacts model;

    MoeMixRules(QuantMix mix, ModelFacts model) {
        this.mix = mix;
        this.model = model;
    }

    /** Whether these rules change anything for this model and mix. */
    boolean applies() {
        return model.isMoe() && mix.isQuantized();
    }

    /** llama.cpp's choice, or a type with more bits and the reason for it (the richest rule wins). */
    LlamaMixRules.Choice adjust(String name, TensorRole role, LlamaMixRules.Choice llama) {
        if (role == TensorRole.OUTPUT || role == TensorRole.TOKEN_EMBD) return llama;
        GgmlType base = mix.defaultType();
        LlamaMixRules.Choice best = llama;
        if (isKvPath(name, role)) {
            best = atLeast(best, GgmlType.Q8_0, "MoE: attention K/V path", llama);
        } else if (TensorRole.isAttention(name)) {
            GgmlType target = steps(base, 1);
            if (bits(target) < bits(GgmlType.Q5_K)) target = GgmlType.Q5_K;
            best = atLeast(best, target, "MoE: attention", llama);
        }
        int layer = TensorRole.layerOf(name);
        if (role == TensorRole.FFN_DOWN && layer >= 0 && layer < Math.max(1, model.layers() / 8)) {
            GgmlType target = steps(base, 2);
            if (bits(target) > bits(GgmlType.Q6_K)) target = GgmlType.Q6_K;
            best = atLeast(best, target, "MoE: ffn_down of an early layer (" + layer + ")", llama);
        }
        if (TensorRole.isSharedExpert(name)) {
            best = atLeast(best, steps(base, role == TensorRole.FFN_DOWN ? 2 : 1), "MoE: shared expert", llama);
        }
        return best;
    }

    private static boolean isKvPath(String name, TensorRole role) {
        return role == TensorRole.ATTN_K || role.isAttnVLike()
                || name.contains("attn_k_b.weight") || name.contains("attn_v_b.weight");
    }

    private static LlamaMixRules.Choice atLeast(LlamaMixRules.Choice current, GgmlType target, String why, LlamaMixRules.Choice llama) {
        if (bits(current.type()) >= bits(target)) return current;
        return new LlamaMixRules.Choice(target, why + " (llama.cpp: " + llama.type().ggmlName() + ") -> " + target.ggmlName());
    }

    /** {@code n} rungs above {@code type} on the ladder, capped at Q8_0. */
    static GgmlType steps(GgmlType type, int n) {
        int rung = switch (type) {
            case Q2_K, IQ2_K, IQ2_KS, IQ2_K_R4 -> 0;
            case Q3_K, IQ3_K, IQ3_K_R4 -> 1;
            case Q4_0, Q4_1, Q4_K, IQ4_NL, IQ4_XS, IQ4_K, IQ4_KS, IQ4_KSS, IQ4_K_R4 -> 2;
            case Q5_0, Q5_1, Q5_K, IQ5_K -> 3;
            case Q6_K, IQ6_K -> 4;
            default -> 5;
        };
        return LADDER.get(Math.min(LADDER.size() - 1, rung + n));
    }

    /** Bits per weight of a whole 256-element row, the order the rules compare types by. */
    static double bits(GgmlType type) {
        return type.bitsPerWeight(256);
    }
}
