package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static dev.panllama.tensor.codec.QuantMath.putHalf;

/**
 * IQ2_KS quantization of one row, as ik_llama.cpp's llama-quantize does it on x86:
 * quantize_row_iq2_ks_fast_impl (the default; {@code --slow-iq2ks} picks an exhaustive search instead).
 * Each sub-block of 32 tries 55 scales (max / 22, and max / (first level + t / 2) on both grid halves for
 * t in [−13, 13]), each value going to the level nearest in squared distance for both signs of the
 * scale, and keeps the weighted least-squares scale of the best; {@link IqkWeights#makeQxQuants} turns
 * the row's scales into 5-bit multiples of one row scale; each multiple may move one step toward its
 * scale when that lowers the weighted squared error; d is refitted over the row.
 *
 * <p>ik_llama.cpp computes the sums eight lanes at a time with fused multiply-adds and adds the lanes
 * pairwise at the end; so does this class (see {@link #laneSum}), to pick the same scales in near ties.
 */
final class Iq2KsEncoder {
    private static final int SUB = 32;

    private final float[] weight = new float[SUB];
    private final float[] values = new float[4];
    private final byte[] index = new byte[SUB];
    private final byte[] indexMinus = new byte[SUB];
    private final float[] laneA = new float[8];
    private final float[] laneB = new float[8];
    private final float[] laneC = new float[8];
    private final float[] laneD = new float[8];
    // Result of the last compute(): the scale and its score.
    private float bestD;
    private float score;

    /**
     * Encodes n values of {@code x[from..]} into the row at {@code dst[offset..]} (the 2-byte row scale,
     * then the blocks), with the row's importance (null: none) at {@code imp[0..n)}.
     */
    void encodeRow(float[] x, int from, float[] imp, int n, MemorySegment dst, long offset) {
        int nb = n / 256;
        int nsub = 8 * nb;
        float[] scales = new float[nsub];
        float[] sw = new float[nsub];
        byte[] ls = new byte[nsub];
        int[] extra = new int[nb];
        byte[] row = new byte[Iq2KsCodec.ROW_META + nb * Iq2KsCodec.BLOCK_BYTES];
        for (int b = 0; b < nb; b++) {
            float sigma2 = IqkWeights.sigma2(x, from + 256 * b, 1.5f);
            for (int ib = 0; ib < 8; ib++) {
                int xb = from + 256 * b + SUB * ib;
                IqkWeights.fill(x, xb, imp, 256 * b + SUB * ib, sigma2, weight, SUB);
                float amax = 0f, max = 0f, sumw = 0f;
                for (int j = 0; j < SUB; j++) {
                    float ax = Math.abs(x[xb + j]);
                    if (ax > amax) {
                        amax = ax;
                        max = x[xb + j];
                    }
                    sumw += weight[j];
                }
                int s = 8 * b + ib;
                sw[s] = sumw;
                if (amax < 1e-14f) {
                    scales[s] = 0f;
                    continue;
                }
                float d = max / IqkGrid.IQ2.level(1, 3);
                float best = 0f;
                if (compute(d, x, xb, 0)) {
                    best = score;
                    d = bestD;
                }
                boolean shifted = false;
                for (int half = 0; half < 2; half++) {
                    for (int itry = -13; itry <= 13; itry++) {
                        if (compute(max / (IqkGrid.IQ2.level(half, 0) + 0.5f * itry), x, xb, half) && score > best) {
                            best = score;
                            d = bestD;
                            shifted = half == 1;
                        }
                    }
                }
                scales[s] = d;
                if (shifted) extra[b] |= 1 << ib;
            }
        }
        float d = IqkWeights.makeQxQuants(nsub, 16, scales, ls, sw);
        if (d == 0f) {
            // ik_llama.cpp leaves the row scale 0 with the grid halves already chosen.
            for (int b = 0; b < nb; b++) putExtra(row, b, extra[b]);
            MemorySegment.copy(row, 0, dst, ValueLayout.JAVA_BYTE, offset, row.length);
            return;
        }
        Arrays.fill(laneA, 0f);
        Arrays.fill(laneB, 0f);
        for (int b = 0; b < nb; b++) {
            float sigma2 = IqkWeights.sigma2(x, from + 256 * b, 1.5f);
            int block = Iq2KsCodec.ROW_META + b * Iq2KsCodec.BLOCK_BYTES;
            for (int ib = 0; ib < 8; ib++) {
                int s = 8 * b + ib;
                int half = (extra[b] >>> ib) & 1;
                int xb = from + 256 * b + SUB * ib;
                IqkWeights.fill(x, xb, imp, 256 * b + SUB * ib, sigma2, weight, SUB);
                float dl = d * (ls[s] - 16);
                float rmse = rmse(dl, x, xb, half, index);
                if (ls[s] > 0 && dl > scales[s]) {
                    if (rmse(d * (ls[s] - 17), x, xb, half, indexMinus) < rmse) {
                        ls[s]--;
                        System.arraycopy(indexMinus, 0, index, 0, SUB);
                    }
                } else if (ls[s] < 15 && dl < scales[s]) {
                    // ik_llama.cpp tests < 15 here, not < 31: larger multiples are never raised.
                    if (rmse(d * (ls[s] - 15), x, xb, half, indexMinus) < rmse) {
                        ls[s]++;
                        System.arraycopy(indexMinus, 0, index, 0, SUB);
                    }
                }
                float l = ls[s] - 16;
                for (int j = 0; j < SUB; j++) {
                    float vq = l * IqkGrid.IQ2.level(half, index[j]);
                    float wvq = weight[j] * vq;
                    laneA[j % 8] = Math.fma(wvq, x[xb + j], laneA[j % 8]);
                    laneB[j % 8] = Math.fma(wvq, vq, laneB[j % 8]);
                    row[block + Iq2KsCodec.QS + 32 * (ib / 4) + j] |= (byte) (index[j] << (2 * (ib % 4)));
                }
                row[block + Iq2KsCodec.SCALES + ib / 2] |= (byte) ((ls[s] & 0x0F) << (4 * (ib % 2)));
                extra[b] |= (ls[s] >>> 4) << (8 + ib);
            }
            putExtra(row, b, extra[b]);
        }
        float sumqx = laneSum(laneA);
        float sumq2 = laneSum(laneB);
        MemorySegment.copy(row, 0, dst, ValueLayout.JAVA_BYTE, offset, row.length);
        putHalf(dst, offset, sumq2 > 0 ? sumqx / sumq2 : d);
    }

    private static void putExtra(byte[] row, int b, int extra) {
        int at = Iq2KsCodec.ROW_META + b * Iq2KsCodec.BLOCK_BYTES;
        row[at] = (byte) extra;
        row[at + 1] = (byte) (extra >>> 8);
    }

    /**
     * compute_1block_iq2ks: levels of grid half {@code half} nearest the values under scale d and under
     * −d; the least-squares scale and score of the better of the two (into {@link #bestD} and
     * {@link #score}). False when neither has a positive Σwq².
     */
    private boolean compute(float d, float[] x, int xb, int half) {
        for (int i = 0; i < 4; i++) values[i] = d * IqkGrid.IQ2.level(half, i);
        Arrays.fill(laneA, 0f);
        Arrays.fill(laneB, 0f);
        Arrays.fill(laneC, 0f);
        Arrays.fill(laneD, 0f);
        for (int j = 0; j < SUB; j++) {
            float xj = x[xb + j];
            int plus = 0, minus = 0;
            float bestPlus = (xj - values[0]) * (xj - values[0]);
            float bestMinus = (xj + values[0]) * (xj + values[0]);
            for (int i = 1; i < 4; i++) {
                float dp = (xj - values[i]) * (xj - values[i]);
                if (dp < bestPlus) {
                    bestPlus = dp;
                    plus = i;
                }
                float dm = (xj + values[i]) * (xj + values[i]);
                if (dm < bestMinus) {
                    bestMinus = dm;
                    minus = i;
                }
            }
            float q1 = IqkGrid.IQ2.level(half, plus);
            float q2 = IqkGrid.IQ2.level(half, minus);
            float wq1 = weight[j] * q1;
            float wq2 = weight[j] * q2;
            int lane = j % 8;
            laneA[lane] = Math.fma(wq1, xj, laneA[lane]);
            laneB[lane] = Math.fma(wq1, q1, laneB[lane]);
            laneC[lane] = Math.fma(wq2, xj, laneC[lane]);
            laneD[lane] = Math.fma(wq2, q2, laneD[lane]);
        }
        float sumqx1 = laneSum(laneA), sumq21 = laneSum(laneB);
        float sumqx2 = laneSum(laneC), sumq22 = laneSum(laneD);
        boolean result = false;
        if (sumq21 > 0) {
            bestD = sumqx1 / sumq21;
            score = sumqx1 * bestD;
            result = true;
        }
        if (sumq22 > 0 && (!result || sumqx2 * sumqx2 > score * sumq22)) {
            bestD = sumqx2 / sumq22;
            score = sumqx2 * bestD;
            result = true;
        }
        return result;
    }

    /** compute_1block_iq2ks_rmse: the levels nearest the values under scale d (into idx) and their weighted squared error. */
    private float rmse(float d, float[] x, int xb, int half, byte[] idx) {
        for (int i = 0; i < 4; i++) values[i] = d * IqkGrid.IQ2.level(half, i);
        Arrays.fill(laneC, 0f);
        for (int j = 0; j < SUB; j++) {
            float xj = x[xb + j];
            int best = 0;
            float bestDiff = (xj - values[0]) * (xj - values[0]);
            for (int i = 1; i < 4; i++) {
                float diff = (xj - values[i]) * (xj - values[i]);
                if (diff < bestDiff) {
                    bestDiff = diff;
                    best = i;
                }
            }
            idx[j] = (byte) best;
            float diff = Math.fma(-d, IqkGrid.IQ2.level(half, best), xj);
            laneC[j % 8] = Math.fma(weight[j] * diff, diff, laneC[j % 8]);
        }
        return laneSum(laneC);
    }

    /** hsum_float_8: lanes i and i + 4 first, then (0 + 2) + (1 + 3). */
    private static float laneSum(float[] lanes) {
        float s0 = lanes[0] + lanes[4], s1 = lanes[1] + lanes[5], s2 = lanes[2] + lanes[6], s3 = lanes[3] + lanes[7];
        return (s0 + s2) + (s1 + s3);
    }
}
