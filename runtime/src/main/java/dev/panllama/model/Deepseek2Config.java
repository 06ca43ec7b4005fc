package dev.panllama.model;

import dev.panllama.gguf.GgufMetadata;

import dev.panllama.graph.ExpertRouting;
import java.util.Locale;

/**
 * What DeepSeek-V2/V3 (GGUF architecture {@code deepseek2}) adds to {@link ModelConfig}, read from the
 * same metadata with llama.cpp's key names (src/llama-arch.cpp) and its handling of them.
 *
 * <p>Attention dims per head: the query and key are {@code nope + rope} long (the rope part carries the
 * position; keys share one rope part across heads), values {@code v} long; keys and values are
 * decompressed from a {@code kvLora}-dimensional latent. The GGUF says so in one of two ways:
 * <ul>
 *   <li>legacy ({@code attn_kv_b}): {@code key_length = nope + rope}, {@code value_length = v};</li>
 *   <li>current converters ({@code attn_k_b} / {@code attn_v_b}): {@code key_length = kvLora + rope} and
 *   {@code value_length = kvLora} (what the latent cache holds), with {@code key_length_mla = nope + rope}
 *   and {@code value_length_mla = v}.</li>
 * </ul>
 *
 * <p>YaRN ({@code rope.scaling.type = yarn}) as llama.cpp applies it to deepseek2: the rope angles mix
 * interpolation and extrapolation ({@link RopeAngles}) at magnitude 1, and the attention scale carries
 * the magnitude correction squared: {@code kqScale = mscale² / sqrt(nope + rope)} with
 * {@code mscale = 1 + yarn_log_multiplier · ln(factor)}. The converter stores yarn_log_multiplier as
 * {@code 0.1 · mscale_all_dim}; llama.cpp divides it by 0.1 and multiplies by 0.1 again, so the stored
 * value applies as is. Without the key, llama.cpp's generic YaRN magnitude {@code 1 + 0.1 · ln(factor)}
 * stays on the rotated dims and also scales the attention.
 *
 * @param qLoraRank          rank of the query projection (attn_q_a / attn_q_b); 0: a plain attn_q (V2-Lite)
 * @param latentLayout       attn_k_b / attn_v_b are in the file (else attn_kv_b)
 * @param leadingDenseBlocks the first layers have a dense feed-forward of {@code feed_forward_length}
 * @param sharedExperts      experts every token uses (ffn_*_shexp, {@code sharedExperts × expert ff} wide)
 * @param ropeAttnFactor     the factor ggml's rope multiplies cos and sin by (before YaRN's own)
 * @param yarnExtFactor      1 with YaRN, else 0
 * @param yarnOrigContext    rope.scaling.original_context_length (default: the training context)
 */
public record Deepseek2Config(ModelConfig base, int qLoraRank, int kvLoraRank, int nopeDim, int ropeDim, int vDim,
                              boolean latentLayout, int leadingDenseBlocks, int sharedExperts, ExpertRouting routing,
                              float kqScale, float ropeAttnFactor, float yarnExtFactor, int yarnOrigContext) {

    /** llama.cpp's context defaults for YaRN (llama_context_default_params). */

    /**
     * Reads deepseek2's own hyper-parameters, each checked for type and range ({@link HyperparameterKeys});
     * {@link HyperparameterChecks#deepseek2} then checks them, and the routing, against the tensors.
     */
    public static Deepseek2Config fromMetadata(GgufMetadata md, ModelConfig base) {
        HyperparameterKeys k = new HyperparameterKeys(md, base.arch().ggufName());
        String p = base.arch().ggufName() + ".";
        int rope = base.nRot();
        int kvLora = k.count("attention.kv_lora_rank", 1);
        int qLora = k.count("attention.q_lora_rank", 0, 0);
        boolean latent = k.contains("attention.key_length_mla");
        int nope, v;
        String keyLengthKey = latent ? "attention.key_length_mla" : "attention.key_length";
        if (latent) {
            nope = k.count("attention.key_length_mla", 1) - rope;
            v = k.count("attention.value_length_mla", 1);
            if (base.headDimK() != kvLora + rope || base.headDimV() != kvLora || base.headCountKv() != 1) {
                throw new IllegalArgumentException(p + "attention.key_length = " + base.headDimK() + ", value_length = " + base.headDimV()
                        + " and head_count_kv = " + base.headCountKv() + ", but the latent layout (" + p + "attention.key_length_mla) needs "
                        + "kv_lora_rank + rope = " + (kvLora + rope) + ", kv_lora_rank = " + kvLora + " and one KV head");
            }
        } else {
            nope = base.headDimK() - rope;
            v = base.headDimV();
        }
        if (nope <= 0) {
            throw k.invalid(keyLengthKey, nope + rope, "it must exceed the rope part " + k.key("rope.dimension_count") + " = " + rope);
        }
        int dense = k.count("leading_dense_block_count", 0, 0);
        if (dense > base.blockCount()) {
            throw k.invalid("leading_dense_block_count", dense, "it must be at most " + k.key("block_count") + " = " + base.blockCount());
        }
        int shared = k.count("expert_shared_count", 0, 0);
        ExpertRouting routing = null;
        if (base.isMoe()) {
            if (!k.contains("expert_weights_scale")) {
                throw new IllegalArgumentException("missing metadata key '" + k.key("expert_weights_scale") + "'");
            }
            int gating = k.count("expert_gating_func", 0, 0);
            if (!ExpertRouting.Gating.isKnown(gating)) {
                throw k.invalid("expert_gating_func", gating, "it must be " + ExpertRouting.Gating.KNOWN_IDS);
            }
            int groups = k.count("expert_group_count", 0, 0);
            int groupsUsed = k.count("expert_group_used_count", 0, 0);
            if (groups > 1 && groupsUsed > groups) {
                throw k.invalid("expert_group_used_count", groupsUsed, "it must be in [1, " + groups + "] ("
                        + k.key("expert_group_count") + " = " + groups + ")");
            }
            if (groups > 1 && groupsUsed == 0) {
                throw new IllegalArgumentException(k.key("expert_group_count") + " = " + groups + ", but "
                        + k.key("expert_group_used_count") + " is " + (k.contains("expert_group_used_count") ? "0" : "missing"));
            }
            routing = new ExpertRouting(ExpertRouting.Gating.byId(gating), md.getBool(p + "expert_weights_norm", false),
                    k.real("expert_weights_scale", 1f, true), groups, groupsUsed);
        }

        float freqScale = base.ropeFreqScale();
        float ext = base.ropeScaling().extFactor();
        float lnFactor = (float) Math.log(1.0f / freqScale);
        // llama_context: the attention factor given to rope, with YaRN's own magnitude cancelled out
        // (so that only the attention scale below carries it when yarn_log_multiplier is set).
        float logMul = k.real("rope.scaling.yarn_log_multiplier", 0f, false);
        float attnFactor = 1f;
        if (ext != 0f) {
            attnFactor = logMul != 0f ? 1f : RopeScaling.mscale(1f / freqScale, 1f);
            attnFactor *= 1.0f / (1.0f + 0.1f * lnFactor);
        }
        attnFactor *= k.real("rope.scaling.yarn_attn_factor", 1f, true);
        // build_deepseek2: undo that cancellation, then pre-scale kq_scale by mscale².
        float attnFactorOrig = attnFactor * (1.0f + 0.1f * lnFactor);
        float mscale = attnFactorOrig * (1.0f + logMul * lnFactor);
        float kqScale = mscale * mscale / (float) Math.sqrt(nope + rope);
        int origCtx = base.ropeScaling().origContext();
        return new Deepseek2Config(base, qLora, kvLora, nope, rope, v, latent, dense, shared, routing,
                kqScale, attnFactor, ext, origCtx);
    }

    public int headCount() { return base.headCount(); }

    /** Elements of one latent cache row: the normed kv latent, then the rotated shared key rope part. */
    public int latentDim() { return kvLoraRank + ropeDim; }

    /** Query (and key) length per head before absorption. */
    public int qkHeadDim() { return nopeDim + ropeDim; }

    public boolean isDenseLayer(int layer) { return !base.isMoe() || layer < leadingDenseBlocks; }

    /** The rope angles of the qk_rope dims (normal, not NeoX, rotation; with YaRN when the file asks). */
    public RopeAngles ropeAngles() {
        return new RopeAngles(ropeDim, base.ropeFreqBase(), base.ropeFreqScale(), null,
                yarnExtFactor, ropeAttnFactor, yarnOrigContext, base.ropeScaling().betaFast(), base.ropeScaling().betaSlow());
    }

    /** The model parameters that differ from the llama family, as llama.cpp prints them. */
    public String describe() {
        return String.format(Locale.ROOT, "q_lora %d, kv_lora %d, qk_nope %d, qk_rope %d, v %d, %s layout, %d dense lead%s%s",
                qLoraRank, kvLoraRank, nopeDim, ropeDim, vDim, latentLayout ? "attn_k_b/attn_v_b" : "attn_kv_b",
                leadingDenseBlocks, sharedExperts > 0 ? ", " + sharedExperts + " shared expert(s)" : "",
                yarnExtFactor != 0 ? ", YaRN from " + yarnOrigContext : "");
    }
}
