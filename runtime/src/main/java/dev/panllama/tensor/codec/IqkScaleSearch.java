package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The per-sub-block scale search of ik_llama.cpp's IQ3_K, IQ5_K and IQ6_K quantizers
 * (quantize_row_iq3_k_impl, _iq5_k_impl, _iq6_k_impl): starting from −max / (the first level), try the
 * inverse scales (first level + step · t) / max for t in [−tries, tries] on both grid halves and for both
 * signs, keep the weighted least-squares scale of the best assignment, then re-pick the levels under
 * it on its half and refit once. (IQ3_K's refinement loop after that refit never changes the scale it
 * keeps, so it is left out.)
 */
final class IqkScaleSearch {
    /** One super-block's encoder of a type using the search: 256 values (and their importance) into {@code block}. */
    @FunctionalInterface
    interface BlockEncoder {
        void encode(float[] x, int from, float[] imp, int impFrom, IqkScaleSearch search, float[] weight, float[] scales, byte[] block);
    }

    /**
     * The row loop of IQ3_K, IQ5_K and IQ6_K: the row's importance (or none), one search and scratch for
     * the row, each 256-value super-block encoded and copied to {@code dst}.
     */
    static void quantizeRow(String type, int blockBytes, IqkScaleSearch search, BlockEncoder encoder,
                            float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        int nb = QuantMath.blocks(type, n, 256);
        float[] imp = IqkWeights.rowImportance(importance, impOff, src, srcOff, n, 16);
        float[] weight = new float[16];
        float[] scales = new float[16];
        byte[] block = new byte[blockBytes];
        for (int b = 0; b < nb; b++) {
            encoder.encode(src, srcOff + 256 * b, imp, 256 * b, search, weight, scales, block);
            MemorySegment.copy(block, 0, dst, ValueLayout.JAVA_BYTE, offset + (long) b * blockBytes, blockBytes);
        }
    }

    private final IqkGrid grid;
    private final int tries;
    private final float step;
    /** IQ3_K guards the first fit against an empty sum; IQ5_K and IQ6_K divide unconditionally. */
    private final boolean guardFirst;

    /** The scale found by the last {@link #fit} (0 for a block of zeros). */
    float scale;
    /** Whether that scale goes with the shifted half of the grid. */
    boolean shifted;
    /** Whether the search found no scale at all (before the refit), which IQ3_K treats as an empty sub-block. */
    boolean empty;

    private float sumqxP, sumq2P, sumqxM, sumq2M;

    IqkScaleSearch(IqkGrid grid, int tries, float step, boolean guardFirst) {
        this.grid = grid;
        this.tries = tries;
        this.step = step;
        this.guardFirst = guardFirst;
    }

    /** The scale of largest magnitude (with its sign) of the last {@link #fitBlock}; 0 for a block of zeros. */
    float largest;

    /**
     * IQ5_K / IQ6_K: fits the 16 sub-blocks of 16 of the 256 values at {@code x[from..]}, each with its
     * weights (importance {@code imp[impFrom..]} or none, and sigma2) filled into {@code weight}; stores
     * their scales in {@code scales[0..16)} and {@link #largest}, and returns the bit mask of the
     * sub-blocks that take the shifted half of the grid (the block's {@code extra}).
     */
    int fitBlock(float[] x, int from, float[] imp, int impFrom, float sigma2, float[] weight, float[] scales) {
        int extra = 0;
        float maxAbs = 0f;
        largest = 0f;
        for (int s = 0; s < 16; s++) {
            IqkWeights.fill(x, from + 16 * s, imp, impFrom + 16 * s, sigma2, weight, 16);
            fit(x, from + 16 * s, weight, 16);
            scales[s] = scale;
            if (shifted) extra |= 1 << s;
            if (Math.abs(scale) > maxAbs) {
                maxAbs = Math.abs(scale);
                largest = scale;
            }
        }
        return extra;
    }

    /** Where a picked level goes in a block: value j of sub-block s (16 values) takes level q. */
    interface LevelPacker {
        void put(byte[] block, int s, int j, int q);
    }

    /**
     * The second pass of ik_llama.cpp's IQ3_K, IQ5_K and IQ6_K quantizers: under sub-block s's quantized
     * scale {@code d·l[s]} every value takes its nearest level of the grid half {@code extra} picks for it,
     * packed by {@code pack}. Returns the least-squares scale of the block, Σwqx / Σwq² (d when no level
     * was picked).
     */
    float pickLevels(float[] x, int from, float[] imp, int impFrom, float sigma2, float[] weight, float d, int[] l,
                     int extra, byte[] block, LevelPacker pack) {
        float sumqx = 0f;
        float sumq2 = 0f;
        for (int s = 0; s < 16; s++) {
            float dl = d * l[s];
            if (dl == 0f) continue;
            int shifted = (extra >>> s) & 1;
            int xb = from + 16 * s;
            IqkWeights.fill(x, xb, imp, impFrom + 16 * s, sigma2, weight, 16);
            float idl = 1 / dl;
            for (int j = 0; j < 16; j++) {
                float xj = x[xb + j];
                int q = grid.nearest(shifted, idl * xj);
                pack.put(block, s, j, q);
                float v = grid.level(shifted, q) * l[s];
                sumqx = Math.fma(weight[j] * v, xj, sumqx);
                sumq2 = Math.fma(weight[j] * v, v, sumq2);
            }
        }
        return sumq2 > 0 ? sumqx / sumq2 : d;
    }

    /** Fits the {@code len} values at {@code x[from..]} with weights w[0..len). */
    void fit(float[] x, int from, float[] w, int len) {
        float max = QuantMath.largestMagnitude(x, from, len);
        float amax = Math.abs(max);
        shifted = false;
        empty = true;
        if (amax < 1e-16f) {
            scale = 0f;
            return;
        }
        int first = grid.level(0, 0);
        int firstShifted = grid.level(1, 0);
        float d = -max / first;
        pass(x, from, w, len, 1 / d, 0);
        float best = 0f;
        if (!guardFirst || sumq2P > 0) {
            d = sumqxP / sumq2P;
            best = d * sumqxP;
        }
        if (sumq2M > 0 && sumqxM * sumqxM > best * sumq2M) {
            d = sumqxM / sumq2M;
            best = d * sumqxM;
        }
        for (int itry = -tries; itry <= tries; itry++) {
            for (int half = 0; half < 2; half++) {
                pass(x, from, w, len, (itry * step + (half == 0 ? first : firstShifted)) / max, half);
                if (sumq2P > 0 && sumqxP * sumqxP > best * sumq2P) {
                    d = sumqxP / sumq2P;
                    best = d * sumqxP;
                    shifted = half == 1;
                }
                if (sumq2M > 0 && sumqxM * sumqxM > best * sumq2M) {
                    d = sumqxM / sumq2M;
                    best = d * sumqxM;
                    shifted = half == 1;
                }
            }
        }
        empty = d == 0f;
        if (d != 0f) {
            int half = shifted ? 1 : 0;
            float id = 1 / d;
            float sumqx = 0f;
            float sumq2 = 0f;
            for (int j = 0; j < len; j++) {
                float xj = x[from + j];
                float q = grid.level(half, grid.nearest(half, id * xj));
                sumqx = Math.fma(w[j] * q, xj, sumqx);
                sumq2 = Math.fma(w[j] * q, q, sumq2);
            }
            if (sumq2 > 0) d = sumqx / sumq2;
        }
        scale = d;
    }

    /** One assignment of levels from grid half {@code half} under inverse scale id, and its sums for ±id. */
    private void pass(float[] x, int from, float[] w, int len, float id, int half) {
        sumqxP = sumq2P = sumqxM = sumq2M = 0f;
        for (int j = 0; j < len; j++) {
            float xj = x[from + j];
            float al = id * xj;
            float q = grid.level(half, grid.nearest(half, al));
            sumqxP = Math.fma(w[j] * q, xj, sumqxP);
            sumq2P = Math.fma(w[j] * q, q, sumq2P);
            q = grid.level(half, grid.nearest(half, -al));
            sumqxM = Math.fma(w[j] * q, xj, sumqxM);
            sumq2M = Math.fma(w[j] * q, q, sumq2M);
        }
    }
}
