package dev.panllama.model;

import dev.panllama.gguf.GgufMetadata;

import java.util.Locale;

/**
 * RoPE context scaling as llama.cpp reads it (llama-model.cpp load_hparams, llama_context's YaRN set-up):
 * none, linear ({@code rope.scaling.factor}, or the older {@code rope.scale_linear}), or YaRN, whose
 * parameters are the {@code rope.scaling.yarn_*} keys (also what {@code --yarn-*} override).
 *
 * @param freqScale    1/factor, 1 without scaling
 * @param extFactor    YaRN's extrapolation mix: yarn_ext_factor, else 1 with YaRN and 0 without
 * @param attnFactor   multiplies every cos and sin: with YaRN, llama_context's factor with ggml's own
 *                     {@code 1 + 0.1 ln(factor)} cancelled, times yarn_attn_factor (default 1)
 * @param betaFast     yarn_beta_fast (default 32)
 * @param betaSlow     yarn_beta_slow (default 1)
 * @param origContext  rope.scaling.original_context_length (default: the training context)
 */
public record RopeScaling(float freqScale, float extFactor, float attnFactor, float betaFast, float betaSlow, int origContext) {

    public static final RopeScaling NONE = new RopeScaling(1f, 0f, 1f, 32f, 1f, 0);

    public boolean yarn() { return extFactor != 0f; }

    /** The angles for {@code nRot} rotated dims at {@code base}, with per-pair frequency factors when the model has them. */
    public RopeAngles angles(int nRot, float base, float[] freqFactors) {
        return new RopeAngles(nRot, base, freqScale, freqFactors, extFactor, attnFactor, origContext, betaFast, betaSlow);
    }

    static RopeScaling read(GgufMetadata md, HyperparameterKeys k, int contextLength) {
        String type = md.getString(k.key("rope.scaling.type"), "none").toLowerCase(Locale.ROOT);
        if (!type.equals("none") && !type.equals("linear") && !type.equals("yarn")) {
            throw new IllegalArgumentException(k.key("rope.scaling.type") + " = '" + type + "', but only none, linear and yarn are supported yet");
        }
        float freqScale = freqScale(k, type);
        boolean yarn = type.equals("yarn");
        float ext = k.contains("rope.scaling.yarn_ext_factor") ? k.real("rope.scaling.yarn_ext_factor", 0f, false) : yarn ? 1f : 0f;
        if (ext < 0) ext = yarn ? 1f : 0f;           // llama.cpp's -1: from the scaling type
        float attn = 1f;
        if (ext != 0f) {
            float factor = 1f / freqScale;
            float logMul = k.real("rope.scaling.yarn_log_multiplier", 0f, false);
            attn = logMul != 0f ? mscale(factor, 1f) / mscale(factor, logMul) : mscale(factor, 1f);
            attn *= 1f / (1f + 0.1f * (float) Math.log(factor));    // ggml's rope multiplies this back in
        }
        attn *= k.real("rope.scaling.yarn_attn_factor", 1f, true);
        return new RopeScaling(freqScale, ext, attn, k.real("rope.scaling.yarn_beta_fast", 32f, true),
                k.real("rope.scaling.yarn_beta_slow", 1f, true), k.count("rope.scaling.original_context_length", contextLength, 1));
    }

    /** HF's yarn_get_mscale: {@code 0.1 · mscale · ln(scale) + 1}, 1 for scale <= 1. */
    static float mscale(float scale, float mscale) {
        return scale <= 1f ? 1f : 0.1f * mscale * (float) Math.log(scale) + 1f;
    }

    /** 1/factor, 1 without scaling. As in llama.cpp, a factor of 0 means none; a negative one is refused. */
    private static float freqScale(HyperparameterKeys k, String type) {
        if (k.contains("rope.scale_linear")) {
            float linear = nonNegative(k, "rope.scale_linear");
            return linear > 0 ? 1.0f / linear : 1.0f;
        }
        float factor = nonNegative(k, "rope.scaling.factor");
        return !type.equals("none") && factor > 0 ? 1.0f / factor : 1.0f;
    }

    private static float nonNegative(HyperparameterKeys k, String name) {
        float v = k.real(name, 0f, false);
        if (v < 0) throw k.invalid(name, v, "it must be positive, or 0 for none");
        return v;
    }
}
