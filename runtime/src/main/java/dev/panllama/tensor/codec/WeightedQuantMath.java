package dev.panllama.tensor.codec;

import static dev.panllama.tensor.codec.KQuantMath.GROUP_MAX_EPS;
import static dev.panllama.tensor.codec.KQuantMath.nearestInt;

/**
 * The searches ggml runs when llama-quantize has an importance matrix (ggml-quants.c
 * make_qkx3_quants and make_qp_quants, reached from quantize_row_TYPE_impl), and the per-element
 * weights those paths derive from the importance. As in {@link KQuantMath}, every expression keeps
 * ggml's float types and evaluation order (ggml-base is built without fused multiply-add), so the
 * bytes match llama-quantize --imatrix.
 */
final class WeightedQuantMath {
    private WeightedQuantMath() {}

    /**
     * The weight ggml gives element x under importance q when the group's mean square is
     * {@code sigma2}: {@code q * sqrt(sigma2 + x^2)}. Importance alone would ignore how far a value is
     * from zero; the square root keeps large values (whose error costs most) heavier.
     */
    static float importanceWeight(float importance, float sigma2, float x) {
        return importance * (float) Math.sqrt(sigma2 + x * x);
    }

    /**
     * Q4_K / Q5_K with importance (ggml's quantize_row_q4_K_impl and _q5_K_impl): fits each
     * sub-block of 32 by make_qkx3_quants under importance weights, quantizes the eight scales and
     * eight mins to 6 bits by make_qp_quants weighted by the sub-blocks' total weights, packs them
     * with d and dmin, and leaves the final levels (0..nmax, requantized against the stored scales) in
     * {@code s.levels}. Q5_K caps the 6-bit levels at 63 before packing; Q4_K packs them as they come.
     */
    static void encodeScalesAndLevelsK4(float[] x, int xOff, float[] importance, int impOff, byte[] block,
                                        int scalesOff, int dOff, int dminOff, int nmax, boolean capAt63,
                                        SuperBlockCodec.Scratch s) {
        float sigma2 = 2 * sumOfSquares(x, xOff, KQuantMath.QK_K) / KQuantMath.QK_K;
        for (int sub = 0; sub < 8; sub++) {
            int off = xOff + 32 * sub;
            fillWeights(s.weights, x, off, importance, impOff + 32 * sub, 32, sigma2);
            float sum = 0;
            for (int l = 0; l < 32; l++) sum += s.weights[l];
            s.subBlockWeights[sub] = sum;
            s.scales[sub] = KQuantMath.makeQkxQuants(32, nmax, x, off, s.weights, s.levels, 32 * sub, s.mins, sub,
                    s.candidate, -0.9f, 0.05f, 36, false);
        }
        float dBlock = makeQpQuants(8, 63, s.scales, s.scaleLevels, s.subBlockWeights);
        float mBlock = makeQpQuants(8, 63, s.mins, s.minLevels, s.subBlockWeights);
        for (int sub = 0; sub < 8; sub++) {
            int ls = capAt63 ? Math.min(63, s.scaleLevels[sub]) : s.scaleLevels[sub];
            int lm = capAt63 ? Math.min(63, s.minLevels[sub]) : s.minLevels[sub];
            KQuantMath.putScaleMinK4(block, scalesOff, sub, ls, lm);
        }
        KQuantMath.putHalf(block, dOff, dBlock);
        KQuantMath.putHalf(block, dminOff, mBlock);
        KQuantMath.requantizeK4(x, xOff, block, scalesOff, dOff, dminOff, nmax, s.levels);
    }

    /** Fills {@code weights[0, n)} with {@link #importanceWeight} of {@code x[xOff..]} under {@code importance[impOff..]}. */
    static void fillWeights(float[] weights, float[] x, int xOff, float[] importance, int impOff, int n, float sigma2) {
        for (int i = 0; i < n; i++) weights[i] = importanceWeight(importance[impOff + i], sigma2, x[xOff + i]);
    }

    /** Sum of squares of {@code x[from, from + n)}, accumulated in float in index order as ggml does. */
    static float sumOfSquares(float[] x, int from, int n) {
        float sum = 0;
        for (int i = 0; i < n; i++) sum += x[from + i] * x[from + i];
        return sum;
    }

    /**
     * Quantizes non-negative values (a super-block's sub-block scales or mins) to levels in [0, nmax]
     * under weights (make_qp_quants): picks the best of nine step sizes around max / nmax by weighted
     * squared error, then for up to five rounds moves single levels while the least-squares fit
     * improves. Returns the step; {@code levels} receive the level of each value.
     *
     * <p>ggml keeps these levels in uint8_t, so a (pathological) negative level wraps; {@code & 0xFF}
     * reproduces that wherever ggml stores one.
     */
    static float makeQpQuants(int n, int nmax, float[] x, int[] levels, float[] weights) {
        float max = 0;
        for (int i = 0; i < n; i++) max = max > x[i] ? max : x[i];
        if (max < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) levels[i] = 0;
            return 0f;
        }
        float iscale = nmax / max;
        for (int i = 0; i < n; i++) levels[i] = nearestInt(iscale * x[i]) & 0xFF;
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            float diff = x[i] - scale * levels[i];
            bestError += weights[i] * diff * diff;
        }
        for (int step = -4; step <= 4; step++) {
            if (step == 0) continue;
            float iscaleStep = (0.1f * step + nmax) / max;
            float scaleStep = 1 / iscaleStep;
            float error = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.min(nmax, nearestInt(iscaleStep * x[i]));
                float diff = x[i] - scaleStep * l;
                error += weights[i] * diff * diff;
            }
            if (error < bestError) {
                bestError = error;
                iscale = iscaleStep;
            }
        }
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.min(nmax, nearestInt(iscale * x[i]));
            levels[i] = l & 0xFF;
            float w = weights[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int round = 0; round < 5; round++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float w = weights[i];
                int li = levels[i];
                float slx = sumlx - w * x[i] * li;
                float sl2 = suml2 - w * li * li;
                if (slx > 0 && sl2 > 0) {
                    int newL = Math.min(nmax, nearestInt(x[i] * sl2 / slx));
                    if (newL != li) {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                            levels[i] = newL & 0xFF;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) break;
        }
        return suml2 > 0f ? sumlx / suml2 : 0f;
    }
}
