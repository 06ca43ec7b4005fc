package dev.panllama.model;

/**
 * The cos/sin pairs RoPE applies at each position, computed as ggml's rope cache does
 * (ggml-cpu ops.cpp, ggml_rope_cache_init without YaRN): theta starts at the position and is multiplied
 * by {@code base^(-2/nRot)} once per pair, in float; optional per-pair frequency factors (llama3's
 * rope_freqs.weight) divide it; the linear scale multiplies it.
 */
public final class RopeAngles {
    private final int nRot;
    private final float thetaScale;
    private final float freqScale;
    private final float[] freqFactors;

    public RopeAngles(int nRot, float freqBase, float freqScale, float[] freqFactors) {
        if (freqFactors != null && freqFactors.length < nRot / 2) {
            throw new IllegalArgumentException("rope_freqs has " + freqFactors.length + " factors, needs " + nRot / 2);
        }
        this.nRot = nRot;
        this.thetaScale = (float) Math.pow(freqBase, -2.0f / nRot);
        this.freqScale = freqScale;
        this.freqFactors = freqFactors;
    }

    public int nRot() { return nRot; }

    /** Fills {@code out[t * nRot + i]} (cos at even i, sin at odd i) for positions pos0 .. pos0+tokens-1. */
    public void fill(int pos0, int tokens, float[] out) {
        for (int t = 0; t < tokens; t++) {
            float theta = pos0 + t;
            int o = t * nRot;
            for (int i = 0; i < nRot; i += 2) {
                float ff = freqFactors != null ? freqFactors[i / 2] : 1.0f;
                float angle = freqScale * (theta / ff);
                out[o + i] = (float) Math.cos(angle);
                out[o + i + 1] = (float) Math.sin(angle);
                theta *= thetaScale;
            }
        }
    }
}
