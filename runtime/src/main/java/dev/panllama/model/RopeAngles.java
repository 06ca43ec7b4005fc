package dev.panllama.model;

/**
 * The cos/sin pairs RoPE applies at each position, computed as ggml's rope cache does
 * (ggml-cpu ops.cpp, ggml_rope_cache_init and rope_yarn): theta starts at the position and is multiplied
 * by {@code base^(-2/nRot)} once per pair, in float; optional per-pair frequency factors (llama3's
 * rope_freqs.weight) divide it; the linear scale multiplies it.
 *
 * <p>With YaRN ({@code extFactor != 0}) each pair mixes the interpolated angle (scaled) and the
 * extrapolated one (unscaled) by a ramp over the pair index between the correction dims, and the
 * magnitude is multiplied by {@code 1 + 0.1·ln(1/freqScale)}; {@code attnFactor} multiplies every
 * cos and sin (ggml's mscale argument).
 */
public final class RopeAngles {
    private final int nRot;
    private final float thetaScale;
    private final float freqScale;
    private final float[] freqFactors;
    private final float extFactor;
    private final float attnFactor;
    private final float corrLow;
    private final float corrHigh;

    /** Plain or linearly scaled RoPE. */
    public RopeAngles(int nRot, float freqBase, float freqScale, float[] freqFactors) {
        this(nRot, freqBase, freqScale, freqFactors, 0f, 1f, 0, 0f, 0f);
    }

    /**
     * @param extFactor  YaRN extrapolation mix (0: none, llama.cpp uses 1 when the scaling type is yarn)
     * @param attnFactor multiplies cos and sin
     * @param nCtxOrig   the context the model was trained with (rope.scaling.original_context_length)
     * @param betaFast   YaRN correction: rotations at which extrapolation starts (llama.cpp: 32)
     * @param betaSlow   rotations at which interpolation is complete (llama.cpp: 1)
     */
    public RopeAngles(int nRot, float freqBase, float freqScale, float[] freqFactors,
                      float extFactor, float attnFactor, int nCtxOrig, float betaFast, float betaSlow) {
        if (freqFactors != null && freqFactors.length < nRot / 2) {
            throw new IllegalArgumentException("rope_freqs has " + freqFactors.length + " factors, needs " + nRot / 2);
        }
        this.nRot = nRot;
        this.thetaScale = (float) Math.pow(freqBase, -2.0f / nRot);
        this.freqScale = freqScale;
        this.freqFactors = freqFactors;
        this.extFactor = extFactor;
        this.attnFactor = attnFactor;
        if (extFactor != 0f) {
            // ggml_rope_yarn_corr_dims: the pair indices where beta_fast / beta_slow rotations fit the original context
            float start = (float) Math.floor(correctionDim(nRot, nCtxOrig, betaFast, freqBase));
            float end = (float) Math.ceil(correctionDim(nRot, nCtxOrig, betaSlow, freqBase));
            this.corrLow = Math.max(0f, start);
            this.corrHigh = Math.min(nRot - 1, end);
        } else {
            this.corrLow = 0f;
            this.corrHigh = 0f;
        }
    }

    private static float correctionDim(int nDims, int nCtxOrig, float rotations, float base) {
        return nDims * (float) Math.log(nCtxOrig / (rotations * 2 * (float) Math.PI)) / (2 * (float) Math.log(base));
    }

    public int nRot() { return nRot; }

    /** Fills {@code out[t * nRot + i]} (cos at even i, sin at odd i) for positions pos0 .. pos0+tokens-1. */
    public void fill(int pos0, int tokens, float[] out) {
        fill(pos0, tokens, out, 0);
    }

    /** As {@link #fill(int, int, float[])}, from {@code out[outOff]}. */
    public void fill(int pos0, int tokens, float[] out, int outOff) {
        float mscale = attnFactor;
        if (extFactor != 0f) mscale *= 1.0f + 0.1f * (float) Math.log(1.0f / freqScale);
        fill(pos0, tokens, out, outOff, mscale);
    }

    /**
     * The pure rotation (no magnitude factor) that moves a key rotated at position p to position
     * p + delta: every angle is linear in the position, so rotating by delta's angles composes exactly
     * (as ggml's K-shift does with llama_kv_self_seq_add). {@code out}: nRot values, cos/sin pairs.
     */
    public void rotation(int delta, float[] out) {
        fill(delta, 1, out, 0, 1f);
    }

    private void fill(int pos0, int tokens, float[] out, int outOff, float mscale) {
        for (int t = 0; t < tokens; t++) {
            float theta = pos0 + t;
            int o = outOff + t * nRot;
            for (int i = 0; i < nRot; i += 2) {
                float ff = freqFactors != null ? freqFactors[i / 2] : 1.0f;
                float extrapolated = theta / ff;
                float angle = freqScale * extrapolated;
                if (extFactor != 0f) {
                    float mix = ramp(i) * extFactor;
                    angle = angle * (1 - mix) + extrapolated * mix;
                }
                out[o + i] = (float) Math.cos(angle) * mscale;
                out[o + i + 1] = (float) Math.sin(angle) * mscale;
                theta *= thetaScale;
            }
        }
    }

    /** 1 below the low correction dim, 0 above the high one, linear between (ggml's rope_yarn_ramp). */
    private float ramp(int i0) {
        float y = (i0 / 2 - corrLow) / Math.max(0.001f, corrHigh - corrLow);
        return 1 - Math.min(1, Math.max(0, y));
    }
}
