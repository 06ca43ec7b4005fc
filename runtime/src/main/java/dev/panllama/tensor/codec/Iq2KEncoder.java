package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static dev.panllama.tensor.codec.QuantMath.nearestInt;
import static dev.panllama.tensor.codec.QuantMath.putHalf;

/**
 * IQ2_K quantization, ik_llama.cpp's quantize_row_iq2_k_impl. Each sub-block of 16 gets the
 * weighted least-squares scale of the best way to cut its sorted values into four runs mapped, in order
 * or reversed, onto the four levels of either half of {@link IqkGrid#IQ2} (every cut is tried); the
 * sixteen scales are then written as 4-bit multiples of one block scale found by
 * {@link IqkWeights#makeQxQuants}, the levels re-picked under them, and d refitted over the block and
 * raised by 3% (ik_llama.cpp's empirical factor). One instance per thread.
 */
final class Iq2KEncoder {
    private static final int SUB = 16;

    private final float[] weight = new float[SUB];
    private final float[] sumx = new float[SUB + 1];
    private final float[] sumw = new float[SUB + 1];
    private final Integer[] order = new Integer[SUB];
    private final float[] scales = new float[16];
    private final float[] sw = new float[16];
    private final byte[] ls = new byte[16];
    private final byte[] block = new byte[Iq2KCodec.BLOCK_BYTES];
    private final float[] std = new float[4];
    private final float[] shifted = new float[4];
    // The search's state: the best score, its scale and grid half, and the scale fit() settled on.
    private float best;
    private float bestScale;
    private boolean bestShifted;
    private float fitScale;

    Iq2KEncoder() {
        for (int i = 0; i < 4; i++) {
            std[i] = IqkGrid.IQ2.level(0, i);
            shifted[i] = IqkGrid.IQ2.level(1, i);
        }
    }

    /** Encodes one super-block of x (from {@code from}) with the row's importance (null: none) at {@code imp[from..]}. */
    void encode(float[] x, int from, float[] imp, int impFrom, MemorySegment dst, long offset) {
        Arrays.fill(block, (byte) 0);
        float sigma2 = IqkWeights.sigma2(x, from, 1.5f);
        int extra = 0;
        float maxAbsScale = 0f;
        for (int ib = 0; ib < 16; ib++) {
            int xb = from + SUB * ib;
            IqkWeights.fill(x, xb, imp, impFrom + SUB * ib, sigma2, weight, SUB);
            float s = 0f;
            float amax = 0f;
            for (int j = 0; j < SUB; j++) {
                s += weight[j];
                amax = Math.max(amax, Math.abs(x[xb + j]));
            }
            sw[ib] = s;
            if (amax < 1e-16f) {
                scales[ib] = 0f;
                continue;
            }
            if (fit(x, xb)) extra |= 1 << ib;
            maxAbsScale = Math.max(maxAbsScale, Math.abs(scales[ib] = fitScale));
        }
        float d = maxAbsScale == 0f ? 0f : IqkWeights.makeQxQuants(16, 8, scales, ls, sw);
        float sumqx = 0f;
        float sumq2 = 0f;
        if (d != 0f) {
            block[2] = (byte) extra;
            block[3] = (byte) (extra >>> 8);
            float id = 1 / d;
            for (int ib = 0; ib < 16; ib++) {
                int l = Math.clamp(nearestInt(id * scales[ib]), -8, 7);
                block[Iq2KCodec.SCALES + ib / 2] |= (byte) ((l + 8) << (4 * (ib % 2)));
                float dl = d * l;
                if (dl == 0f) continue;
                int half = (extra >>> ib) & 1;
                int xb = from + SUB * ib;
                IqkWeights.fill(x, xb, imp, impFrom + SUB * ib, sigma2, weight, SUB);
                float idl = 1 / dl;
                int g = ib / 2;
                int qs = Iq2KCodec.QS + 32 * (g / 4) + 16 * (ib % 2);
                for (int j = 0; j < SUB; j++) {
                    float xj = x[xb + j];
                    int q = IqkGrid.IQ2.nearest(half, idl * xj);
                    block[qs + j] |= (byte) (q << (2 * (g % 4)));
                    float v = IqkGrid.IQ2.level(half, q) * l;
                    sumqx = Math.fma(weight[j] * v, xj, sumqx);
                    sumq2 = Math.fma(weight[j] * v, v, sumq2);
                }
            }
        }
        MemorySegment.copy(block, 0, dst, ValueLayout.JAVA_BYTE, offset, block.length);
        // A block whose scales all vanish keeps d = 0 (and extra = 0), as in ik_llama.cpp.
        if (d != 0f) putHalf(dst, offset, 1.030f * (sumq2 > 0 ? sumqx / sumq2 : d));
    }

    /**
     * The best scale of the sub-block at x[xb..] (into {@link #fitScale}) over all ways of splitting its
     * sorted values into four runs; returns whether it uses the shifted grid half.
     */
    private boolean fit(float[] x, int xb) {
        for (int j = 0; j < SUB; j++) order[j] = j;
        // std::sort of (value, index) pairs: by value, ties (including −0 and +0) by index.
        Arrays.sort(order, (a, b) -> {
            float va = x[xb + a], vb = x[xb + b];
            return va < vb ? -1 : va > vb ? 1 : Integer.compare(a, b);
        });
        sumx[0] = sumw[0] = 0f;
        for (int j = 0; j < SUB; j++) {
            int jj = order[j];
            sumw[j + 1] = sumw[j] + weight[jj];
            sumx[j + 1] = Math.fma(weight[jj], x[xb + jj], sumx[j]);
        }
        best = 0f;
        bestScale = 0f;
        bestShifted = false;
        for (int i1 = 0; i1 < SUB; i1++) {
            for (int i2 = i1; i2 < SUB; i2++) {
                for (int i3 = i2; i3 < SUB; i3++) {
                    float x0 = sumx[i1] - sumx[0], x1 = sumx[i2] - sumx[i1], x2 = sumx[i3] - sumx[i2], x3 = sumx[SUB] - sumx[i3];
                    float w0 = sumw[i1] - sumw[0], w1 = sumw[i2] - sumw[i1], w2 = sumw[i3] - sumw[i2], w3 = sumw[SUB] - sumw[i3];
                    consider(x0, x1, x2, x3, w0, w1, w2, w3, std[0], std[1], std[2], std[3], false);
                    consider(x0, x1, x2, x3, w0, w1, w2, w3, shifted[0], shifted[1], shifted[2], shifted[3], true);
                    consider(x0, x1, x2, x3, w0, w1, w2, w3, std[3], std[2], std[1], std[0], false);
                    consider(x0, x1, x2, x3, w0, w1, w2, w3, shifted[3], shifted[2], shifted[1], shifted[0], true);
                }
            }
        }
        fitScale = bestScale;
        return bestShifted;
    }

    private void consider(float x0, float x1, float x2, float x3, float w0, float w1, float w2, float w3,
                          float v0, float v1, float v2, float v3, boolean isShifted) {
        float sumqx = Math.fma(x3, v3, Math.fma(x2, v2, Math.fma(x1, v1, x0 * v0)));
        float sumq2 = Math.fma(w3 * v3, v3, Math.fma(w2 * v2, v2, Math.fma(w1 * v1, v1, w0 * v0 * v0)));
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            bestScale = sumqx / sumq2;
            best = bestScale * sumqx;
            bestShifted = isShifted;
        }
    }
}
