package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;

/**
 * The non-linear 4-bit grid shared by IQ4_NL and IQ4_XS, and the per-32-value scale search that
 * llama-quantize runs for both (ggml-quants.c quantize_row_iq4_nl_impl, reached through
 * quantize_iq4_nl / quantize_iq4_xs with ntry = 7; weights x^2 without an imatrix, importance-based
 * with one).
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

    /** Bins are looked up by floor(2x): every boundary between two levels lies on a multiple of 1/2. */
    private static final int BIN_OFFSET = -2 * LEVELS[0];
    private static final byte[] BIN_BY_HALF_UNIT = binTable();

    /**
     * The index of the level nearest x, ties going to the upper level, as ggml's best_index_int8
     * decides it (by bisection there, by a table lookup here). The midpoint m of two adjacent
     * integer levels is a multiple of 1/2, and x belongs to the upper level exactly when x >= m, that
     * is when floor(2x) >= 2m; so floor(2x) selects the level. (ggml compares {@code x - a < b - x}
     * in float; near every boundary both differences are exact, |x| being at least 4.5 there, so the
     * two rules agree everywhere.) NaN maps to the top level, as the bisection's comparisons do.
     */
    static int nearestLevel(float x) {
        if (x <= LEVELS[0]) return 0;
        if (x >= LEVELS[15] || x != x) return 15;
        return BIN_BY_HALF_UNIT[(int) Math.floor(2f * x) + BIN_OFFSET];
    }

    private static byte[] binTable() {
        byte[] table = new byte[2 * (LEVELS[15] - LEVELS[0])];
        for (int k = 0; k < table.length; k++) {
            // Any x in [k/2, (k+1)/2), shifted by the offset; the centre is far from every boundary.
            double x = (k - BIN_OFFSET + 0.5) / 2;
            int best = 0;
            for (int i = 1; i < 16; i++) {
                if (x - LEVELS[i - 1] >= LEVELS[i] - x) best = i;
            }
            table[k] = (byte) best;
        }
        return table;
    }

    /**
     * The scale of the 32 values at {@code x[from..]}: the weighted least-squares scale for the best
     * of the assignments obtained by mapping the largest-magnitude value onto levels -127 - 7 ..
     * -127 + 7 (the first assignment maps it onto -127 exactly). Element j weighs x^2 without
     * importance; with it (ggml's quant_weights path) {@code importance[impOff + j] * sqrt(sigma2 + x^2)},
     * sigma2 being twice the mean square of the enclosing super-block.
     */
    static float fitScale(float[] x, int from, float[] importance, int impOff, float sigma2, float[] weights) {
        for (int j = 0; j < SUB_BLOCK; j++) {
            float xj = x[from + j];
            weights[j] = importance != null ? WeightedQuantMath.importanceWeight(importance[impOff + j], sigma2, xj) : xj * xj;
        }
        float max = QuantMath.largestMagnitude(x, from, SUB_BLOCK);
        float amax = Math.abs(max);
        if (amax < GROUP_MAX_EPS) return 0f;

        float d = -max / LEVELS[0];
        float id = 1 / d;
        float sumqx = 0f;
        float sumq2 = 0f;
        for (int j = 0; j < SUB_BLOCK; j++) {
            float xj = x[from + j];
            float q = LEVELS[nearestLevel(id * xj)];
            float w = weights[j];
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
                float w = weights[j];
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

    /** ggml's sigma2 for the importance weights of a super-block of n values: 2/n times their sum of squares. */
    static float sigma2(float[] x, int from, int n) {
        return WeightedQuantMath.sumOfSquares(x, from, n) * (2f / n);
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
