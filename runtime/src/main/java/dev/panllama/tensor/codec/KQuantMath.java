package dev.panllama.tensor.codec;

/**
 * The arithmetic shared by the K-quant codecs: ggml's rounding trick, its three searches for a
 * group's scale (and min), and the 6-bit scale/min packing of Q4_K and Q5_K.
 *
 * <p>Source of the algorithms: ggml's src/ggml-quants.c (nearest_int, make_qx_quants,
 * make_q3_quants, make_qkx2_quants, get_scale_min_k4). ggml compiles that file into ggml-base without
 * -march flags, so on x86-64 it runs as plain SSE2 float code with no fused multiply-add; every
 * expression here keeps ggml's float types and evaluation order so that the results are
 * bit-identical. Quant levels are kept in {@code byte[]}: all of them lie in [-32, 63], so Java's
 * signed byte holds ggml's int8_t and uint8_t values alike.
 */
final class KQuantMath {
    private KQuantMath() {}

    /** Elements per K-quant super-block (ggml's QK_K). */
    static final int QK_K = 256;

    /** Below this absolute maximum a group counts as all zero (ggml's GROUP_MAX_EPS). */
    static final float GROUP_MAX_EPS = 1e-15f;

    /** 1.5 * 2^23: adding it pushes the fraction out of a float's mantissa, rounding to nearest even. */
    private static final float ROUNDING_MAGIC = 12582912f;

    /**
     * Round to the nearest integer, ties to even, the way ggml does it: add 1.5 * 2^23 and read the
     * integer from the low mantissa bits. Valid for |value| <= 4194303 (ggml asserts the same).
     */
    static int nearestInt(float value) {
        int bits = Float.floatToRawIntBits(value + ROUNDING_MAGIC);
        return (bits & 0x007fffff) - 0x00400000;
    }

    /**
     * Symmetric quantization of {@code x[xOff, xOff + n)} to levels in [-nmax, nmax - 1]
     * (make_qx_quants with rmse_type 1): tries the scales nmax + 0.1 * k, k in [-9, 9], and keeps the
     * weighted least-squares best. Element i weighs {@code w[wOff + i]}, or x^2 when {@code w} is null
     * (ggml's choice without importance weights). Writes {@code level + nmax} to {@code levels[lOff..]}
     * and returns the scale (negative when the largest element is positive).
     */
    static float makeQxQuants(int n, int nmax, float[] x, int xOff, float[] w, int wOff, byte[] levels, int lOff) {
        float max = QuantMath.largestMagnitude(x, xOff, n);
        float amax = Math.abs(max);
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) levels[lOff + i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xOff + i];
            int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            levels[lOff + i] = (byte) (l + nmax);
            float wi = w != null ? w[wOff + i] : xi * xi;
            sumlx += wi * xi * l;
            suml2 += wi * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int step = -9; step <= 9; step++) {
            if (step == 0) continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xOff + i];
                int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
                float wi = w != null ? w[wOff + i] : xi * xi;
                sumlx += wi * xi * l;
                suml2 += wi * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    levels[lOff + i] = (byte) (nmax + clamp(nearestInt(iscale * x[xOff + i]), -nmax, nmax - 1));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /**
     * Symmetric quantization for Q3_K (make_q3_quants with do_rmse): starts from the scale that maps
     * the largest element to -nmax, then for up to five rounds moves single levels while that lowers
     * the x^2-weighted squared error. Writes {@code level + nmax} and returns the scale. An all-zero
     * group gets levels 0 (not nmax) and scale 0, as in ggml.
     */
    static float makeQ3Quants(int n, int nmax, float[] x, int xOff, byte[] levels, int lOff) {
        float max = QuantMath.largestMagnitude(x, xOff, n);
        float amax = Math.abs(max);
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) levels[lOff + i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xOff + i];
            int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            levels[lOff + i] = (byte) l;
            float w = xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        for (int round = 0; round < 5; round++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xOff + i];
                int li = levels[lOff + i];
                float w = xi * xi;
                float slx = sumlx - w * xi * li;
                if (slx > 0) {
                    float sl2 = suml2 - w * li * li;
                    int newL = clamp(nearestInt(xi * sl2 / slx), -nmax, nmax - 1);
                    if (newL != li) {
                        slx += w * xi * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            levels[lOff + i] = (byte) newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) break;
        }
        for (int i = 0; i < n; i++) levels[lOff + i] += (byte) nmax;
        return suml2 > 0f ? sumlx / suml2 : 0f;
    }

    /**
     * Asymmetric quantization x ~ scale * level - min with levels in [0, nmax] (make_qkx2_quants, and
     * make_qkx3_quants, which is the same search with the squared error and explicit weights):
     * starts from the min/max grid, then tries nstep + 1 grids of (rmin + rdelta * k + nmax) steps over
     * the range and keeps the weighted least-squares fit with the smallest weighted error (absolute
     * error when {@code useMad}). The min is never positive, so {@code -min >= 0} is stored in
     * {@code minsOut[minIndex]}. Writes levels to {@code levels[lOff..]}; {@code aux} is scratch of n.
     */
    static float makeQkxQuants(int n, int nmax, float[] x, int xOff, float[] weights, byte[] levels, int lOff,
                                float[] minsOut, int minIndex, byte[] aux,
                                float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[xOff];
        float max = x[xOff];
        float sumW = weights[0];
        float sumX = sumW * x[xOff];
        for (int i = 1; i < n; i++) {
            float xi = x[xOff + i];
            if (xi < min) min = xi;
            if (xi > max) max = xi;
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) min = 0;
        if (max == min) {
            for (int i = 0; i < n; i++) levels[lOff + i] = 0;
            minsOut[minIndex] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp(nearestInt(iscale * (x[xOff + i] - min)), 0, nmax);
            levels[lOff + i] = (byte) l;
            float diff = scale * l + min - x[xOff + i];
            diff = useMad ? Math.abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        for (int step = 0; step <= nstep; step++) {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xOff + i];
                int l = clamp(nearestInt(iscale * (xi - min)), 0, nmax);
                aux[i] = (byte) l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * xi;
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * aux[i] + thisMin - x[xOff + i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    error += weights[i] * diff;
                }
                if (error < bestError) {
                    System.arraycopy(aux, 0, levels, lOff, n);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        minsOut[minIndex] = -min;
        return scale;
    }

    /**
     * Q4_K / Q5_K pack eight 6-bit scales and eight 6-bit mins into 12 bytes (ggml-common.h,
     * K_SCALE_SIZE): bytes 0-3 hold scales 0-3 and bytes 4-7 mins 0-3 in their low six bits; bytes
     * 8-11 hold the low nibbles of scale j and min j (j = 4..7); the high two bits of scales 4-7 and
     * mins 4-7 sit in the top bits of bytes 0-3 and 4-7.
     */
    static int scaleK4(byte[] block, int scalesOff, int j) {
        if (j < 4) return block[scalesOff + j] & 63;
        return (block[scalesOff + j + 4] & 0xF) | (((block[scalesOff + j - 4] & 0xFF) >> 6) << 4);
    }

    /** The min of sub-block j in the 12-byte packing of {@link #scaleK4}. */
    static int minK4(byte[] block, int scalesOff, int j) {
        if (j < 4) return block[scalesOff + j + 4] & 63;
        return ((block[scalesOff + j + 4] & 0xFF) >> 4) | (((block[scalesOff + j] & 0xFF) >> 6) << 4);
    }

    /** Stores scale and min (each in [0, 63]) of sub-block j; j ascending, into zeroed bytes. */
    static void putScaleMinK4(byte[] block, int scalesOff, int j, int scale, int min) {
        if (j < 4) {
            block[scalesOff + j] = (byte) scale;
            block[scalesOff + j + 4] = (byte) min;
        } else {
            block[scalesOff + j + 4] = (byte) ((scale & 0xF) | ((min & 0xF) << 4));
            block[scalesOff + j - 4] |= (byte) ((scale >> 4) << 6);
            block[scalesOff + j] |= (byte) ((min >> 4) << 6);
        }
    }

    /**
     * Q4_K / Q5_K without importance (ggml's quantize_row_q4_K_ref / q5_K_ref): per 32-element sub-block,
     * weights = the sub-block's rms plus each element's magnitude, then make_qkx2_quants with the type's
     * search range; the scales and mins are packed to 6 bits and every element rounded again against them.
     * Levels end in {@code s.levels}.
     */
    static void encodeK4(float[] x, int xOff, byte[] block, int scalesOff, int dOff, int dminOff,
                         int nmax, float rmin, int nstep, SuperBlockCodec.Scratch s) {
        float maxScale = 0;
        float maxMin = 0;
        for (int sub = 0; sub < 8; sub++) {
            int off = xOff + 32 * sub;
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += x[off + l] * x[off + l];
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) s.weights[l] = avX + Math.abs(x[off + l]);
            s.scales[sub] = makeQkxQuants(32, nmax, x, off, s.weights, s.levels, 32 * sub,
                    s.mins, sub, s.candidate, rmin, 0.1f, nstep, false);
            if (s.scales[sub] > maxScale) maxScale = s.scales[sub];
            if (s.mins[sub] > maxMin) maxMin = s.mins[sub];
        }
        packScalesAndMinsK4(block, scalesOff, dOff, dminOff, s.scales, s.mins, maxScale, maxMin);
        requantizeK4(x, xOff, block, scalesOff, dOff, dminOff, nmax, s.levels);
    }

    /**
     * Q4_K / Q5_K: quantizes the eight sub-block scales and mins to 6 bits against their maxima,
     * packs them, and stores d = maxScale / 63 and dmin = maxMin / 63 as halves.
     */
    private static void packScalesAndMinsK4(byte[] block, int scalesOff, int dOff, int dminOff,
                                    float[] scales, float[] mins, float maxScale, float maxMin) {
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < 8; j++) {
            // ggml keeps nearest_int's result in a uint8_t before capping it at 63.
            int scale = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
            int min = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
            putScaleMinK4(block, scalesOff, j, scale, min);
        }
        putHalf(block, dOff, maxScale / 63f);
        putHalf(block, dminOff, maxMin / 63f);
    }

    /**
     * Q4_K / Q5_K second pass: rounds every element again against the scales and mins as stored
     * (after their 6-bit and half-precision rounding), levels in [0, nmax]. A sub-block whose stored
     * scale is zero keeps the levels of the search, as in ggml.
     */
    static void requantizeK4(float[] x, int xOff, byte[] block, int scalesOff, int dOff, int dminOff,
                             int nmax, byte[] levels) {
        float d = halfAt(block, dOff);
        float dmin = halfAt(block, dminOff);
        for (int j = 0; j < 8; j++) {
            float scale = d * scaleK4(block, scalesOff, j);
            if (scale == 0) continue;
            float min = dmin * minK4(block, scalesOff, j);
            for (int i = 32 * j; i < 32 * j + 32; i++) {
                levels[i] = (byte) clamp(nearestInt((x[xOff + i] + min) / scale), 0, nmax);
            }
        }
    }

    /** IEEE half at {@code block[off]}, little-endian, widened exactly. */
    static float halfAt(byte[] block, int off) {
        return Float.float16ToFloat((short) ((block[off] & 0xFF) | (block[off + 1] << 8)));
    }

    /**
     * Stores {@code value} as IEEE half, rounding to nearest even (ggml's GGML_FP32_TO_FP16 in
     * ggml-base rounds the same way), and returns the stored value widened back to float.
     */
    static float putHalf(byte[] block, int off, float value) {
        short h = Float.floatToFloat16(value);
        block[off] = (byte) h;
        block[off + 1] = (byte) (h >> 8);
        return Float.float16ToFloat(h);
    }

    static int clamp(int value, int lo, int hi) {
        return Math.max(lo, Math.min(hi, value));
    }
}
