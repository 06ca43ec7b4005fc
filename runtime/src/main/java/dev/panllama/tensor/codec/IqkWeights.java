package dev.panllama.tensor.codec;

import static dev.panllama.tensor.codec.QuantMath.nearestInt;

/**
 * What ik_llama.cpp's IQ2_K, IQ2_KS, IQ3_K, IQ5_K and IQ6_K quantizers (iqk_quantize.cpp) share: the
 * per-element weights of a least-squares fit, the importance row after QHelper's clean-up, and the
 * scale-of-scales search make_qx_quants (ik_llama.cpp's own variant, not ggml's).
 *
 * <p>The least-squares sums of these quantizers use {@link Math#fma} where ik_llama.cpp's compiled
 * code evidently fuses {@code s + a * b} (GCC with -march=native contracts by default): with it, near
 * ties between candidate scales fall as in ik_llama.cpp's own files (IQ3_K and IQ5_K then match them
 * byte for byte on the zoo model; without it, IQ6_K differs in 3% of its blocks). The sums of squares
 * behind σ² and the weights themselves match unfused, and are left so.
 */
final class IqkWeights {
    /** QHelper's kEps: the importance given to every column of a block whose statistics vanish. */
    private static final float EPS = 1e-9f;
    private static final float EPS2 = EPS * EPS;

    private IqkWeights() {}

    /** {@code factor · Σx² / 256} over the super-block at {@code x[from..]} (1.5 for IQ2/IQ3, 2 for IQ5/IQ6). */
    static float sigma2(float[] x, int from, float factor) {
        float sumx2 = 0f;
        for (int j = 0; j < 256; j++) sumx2 += x[from + j] * x[from + j];
        return factor * sumx2 / 256;
    }

    /**
     * The weights of the {@code len} values at {@code x[from..]}: {@code σ²/4 + x²} without an importance
     * matrix, else {@code importance · √(σ² + x²)}, with {@code importance[impFrom..]} the sub-block's columns.
     */
    static void fill(float[] x, int from, float[] importance, int impFrom, float sigma2, float[] w, int len) {
        if (importance == null) {
            for (int j = 0; j < len; j++) w[j] = 0.25f * sigma2 + x[from + j] * x[from + j];
        } else {
            for (int j = 0; j < len; j++) {
                float xj = x[from + j];
                w[j] = importance[impFrom + j] * (float) Math.sqrt(Math.fma(xj, xj, sigma2));
            }
        }
    }

    /**
     * QHelper::row_weights: the n importance values of a row, except that a block of {@code blockSize}
     * columns whose importance, values or their product all but vanish gets a tiny uniform importance
     * instead. Null in, null out.
     */
    static float[] rowImportance(float[] importance, int impOff, float[] x, int xOff, int n, int blockSize) {
        if (importance == null) return null;
        float[] out = new float[n];
        for (int b = 0; b < n; b += blockSize) {
            float sumw2 = 0f, sumx2 = 0f, sumwx = 0f;
            for (int j = b; j < b + blockSize; j++) {
                float w = importance[impOff + j];
                float xj = x[xOff + j];
                out[j] = w;
                sumw2 += w * w;
                sumx2 += xj * xj;
                sumwx += w * Math.abs(xj);
            }
            float floor = blockSize * EPS2;
            if (sumw2 > floor && sumx2 > floor && sumwx > floor) continue;
            for (int j = b; j < b + blockSize; j++) out[j] = EPS;
        }
        return out;
    }

    /**
     * iqk_quantize.cpp's make_qx_quants: a scale d for the n values x (weights qw) with integer
     * multiples l in [−nmax, nmax − 1], trying 19 inverse scales around −nmax / (the value of largest
     * magnitude); {@code levels[i]} gets l + nmax. Returns d, 0 when every x is 0.
     */
    static float makeQxQuants(int n, int nmax, float[] x, byte[] levels, float[] qw) {
        float max = QuantMath.largestMagnitude(x, 0, n);
        float amax = Math.abs(max);
        if (amax == 0f) {
            java.util.Arrays.fill(levels, 0, n, (byte) 0);
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0f;
        float suml2 = 0f;
        for (int i = 0; i < n; i++) {
            int l = Math.clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1);
            levels[i] = (byte) (l + nmax);
            sumlx = Math.fma(qw[i] * x[i], l, sumlx);
            suml2 = Math.fma(qw[i] * l, l, suml2);
        }
        float scale = suml2 != 0f ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = suml2 = 0f;
            for (int i = 0; i < n; i++) {
                int l = Math.clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1);
                sumlx = Math.fma(qw[i] * x[i], l, sumlx);
                suml2 = Math.fma(qw[i] * l, l, suml2);
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    levels[i] = (byte) (nmax + Math.clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }
}
