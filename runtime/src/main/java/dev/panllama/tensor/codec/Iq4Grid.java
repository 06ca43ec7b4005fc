package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;

/**
 * The non-linear 4-bit grid shared by IQ4_NL and IQ4_XS, and the per-32-value scale search that
 * llama-quantize runs for both without an imatrix (ggml-quants.c quantize_row_iq4_nl_impl, reached
 * through quantize_iq4_nl / quantize_iq4_xs with ntry = 7 and weights x^2).
 */
final class Iq4Grid {
    private Iq4Grid() {}

    /** ggml-common.h kvalues_iq4nl: the 16 levels a nibble selects, before scaling. */
    static final byte[] LEVELS = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    static final int SUB_BLOCK = 32;

    /** Scale candidates tried on each side of the one that maps the largest value to LEVELS[0]. */
    private static final int SEARCH_STEPS = 7;

    /** ggml's GROUP_MAX_EPS: a sub-block whose largest magnitude is below it gets scale 0. */
    private static final float GROUP_MAX_EPS = 1e-15f;

    /** The index of the level nearest x (ties go up), by ggml's best_index_int8 bisection. */
    static int nearestLevel(float x) {
        if (x <= LEVELS[0]) return 0;
        if (x >= LEVELS[15]) return 15;
        int lo = 0;
        int hi = 15;
        while (hi - lo > 1) {
            int mid = (lo + hi) / 2;
            if (x < LEVELS[mid]) hi = mid; else lo = mid;
        }
        return x - LEVELS[hi - 1] < LEVELS[hi] - x ? hi - 1 : hi;
    }

    /**
     * The scale of the 32 values at {@code x[from..]}: the weighted least-squares scale (weights x^2)
     * for the best of the assignments obtained by mapping the largest-magnitude value onto levels
     * -127 - 7 .. -127 + 7 (the first assignment maps it onto -127 exactly).
     */
    static float fitScale(float[] x, int from) {
        float amax = 0f;
        float max = 0f;
        for (int j = 0; j < SUB_BLOCK; j++) {
            float ax = Math.abs(x[from + j]);
            if (ax > amax) {
                amax = ax;
                max = x[from + j];
            }
        }
        if (amax < GROUP_MAX_EPS) return 0f;

        float d = -max / LEVELS[0];
        float id = 1 / d;
        float sumqx = 0f;
        float sumq2 = 0f;
        for (int j = 0; j < SUB_BLOCK; j++) {
            float xj = x[from + j];
            float q = LEVELS[nearestLevel(id * xj)];
            float w = xj * xj;
            sumqx += w * q * xj;
            sumq2 += w * q * q;
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0f;
        float best = d * sumqx;
        for (int step = -SEARCH_STEPS; step <= SEARCH_STEPS; step++) {
            id = (step + LEVELS[0]) / max;
            sumqx = 0f;
            sumq2 = 0f;
            for (int j = 0; j < SUB_BLOCK; j++) {
                float xj = x[from + j];
                float q = LEVELS[nearestLevel(id * xj)];
                float w = xj * xj;
                sumqx += w * q * xj;
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        return d;
    }

    /**
     * The nibbles of 32 values under inverse scale {@code inverseScale}, packed as ggml stores them:
     * byte j holds value j in its low nibble and value j + 16 in its high nibble.
     */
    static void packNibbles(float[] x, int from, float inverseScale, MemorySegment dst, long offset) {
        for (int j = 0; j < 16; j++) {
            int lo = nearestLevel(inverseScale * x[from + j]);
            int hi = nearestLevel(inverseScale * x[from + j + 16]);
            QuantMath.putByte(dst, offset + j, lo | (hi << 4));
        }
    }
}
