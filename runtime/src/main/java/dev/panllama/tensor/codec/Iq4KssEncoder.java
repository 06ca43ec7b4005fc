package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.F32_LE;
import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.nearestInt;

/**
 * IQ4_KSS quantization of one row, following ik_llama.cpp's quantize_row_iq4_kss_impl without an
 * imatrix (weights x², ntry = 7). As IQ4_KS it fits a scale per sub-block of 32, sets the row's d to
 * the largest magnitude / 127 and rounds each scale to an odd multiple of it; in addition every
 * quadruple of nibbles a word stores must have even popcount, so after each nearest-level assignment a
 * quadruple of odd popcount is "pruned": the one nibble change within ±2 levels that flips the parity
 * and costs least weighted squared error is applied. The grid half of each sub-block is then chosen by
 * that error rather than by the scale search. Instances hold scratch space for one row length.
 */
final class Iq4KssEncoder {
    private static final int TRIES = 7;

    private final int groups;
    private final float[] scales;
    private final float[] xv = new float[4];
    private final float[] wv = new float[4];
    private final int[] standard = new int[8];
    private final int[] shifted = new int[8];
    // Sums of one scale-search pass: "P" for the levels of the values, "M" for those of their negations.
    private float sumqxP, sumq2P, sumqxM, sumq2M;

    Iq4KssEncoder(int groups) {
        this.groups = groups;
        this.scales = new float[groups];
    }

    void encodeRow(float[] x, int from, MemorySegment dst, long offset) {
        dst.asSlice(offset, Iq4KssCodec.ROW_META + 16L * groups).fill((byte) 0);
        float amaxScale = 0f;
        for (int g = 0; g < groups; g++) {
            scales[g] = fitScale(x, from + 32 * g);
            amaxScale = Math.max(amaxScale, Math.abs(scales[g]));
        }
        float d = amaxScale / 127;
        dst.set(F32_LE, offset, d);
        if (d == 0f) return;
        float id = 1 / d;
        float sumqx = 0f;
        float sumq2 = 0f;
        for (int g = 0; g < groups; g++) {
            int in = from + 32 * g;
            long words = offset + Iq4KssCodec.ROW_META + 16L * g;
            int l = (Math.clamp(nearestInt(0.5f * (id * scales[g] + 127f)), 0, 127) << 1) - 127;
            if (l == 0) {
                // As ik_llama.cpp: the scale byte becomes 127 (odd: shifted half, multiplier −1) with all-zero nibbles.
                for (int k = 0; k < 8; k++) dst.set(I16_LE, words + 2 * k, (short) ((127 >>> k) & 1));
                continue;
            }
            float dl = d * l;
            float idl = 1 / dl;
            float mseStandard = 0f;
            float mseShifted = 0f;
            for (int k = 0; k < 8; k++) {
                load(x, in, k);
                int vs = 0;
                int vh = 0;
                for (int j = 0; j < 4; j++) {
                    float al = idl * xv[j];
                    vs |= IqkGrid.IQ4.nearest(0, al) << (4 * j);
                    vh |= IqkGrid.IQ4.nearest(1, al) << (4 * j);
                }
                vs = prune(vs, 0, dl);
                vh = prune(vh, 1, dl);
                for (int j = 0; j < 4; j++) {
                    float e = xv[j] - dl * IqkGrid.IQ4.level(0, (vs >>> (4 * j)) & 0x0F);
                    mseStandard += wv[j] * e * e;
                    e = xv[j] - dl * IqkGrid.IQ4.level(1, (vh >>> (4 * j)) & 0x0F);
                    mseShifted += wv[j] * e * e;
                }
                standard[k] = vs;
                shifted[k] = vh;
            }
            int half = mseShifted < mseStandard ? 1 : 0;
            int[] v = half == 1 ? shifted : standard;
            for (int k = 0; k < 8; k++) {
                load(x, in, k);
                for (int j = 0; j < 4; j++) {
                    float q = IqkGrid.IQ4.level(half, (v[k] >>> (4 * j)) & 0x0F) * l;
                    sumqx += wv[j] * q * xv[j];
                    sumq2 += wv[j] * q * q;
                }
            }
            int scaleByte = (l + 127) | half;
            for (int k = 0; k < 8; k++) {
                dst.set(I16_LE, words + 2 * k, (short) ((scramble(v[k] & 0x7FFF) << 1) | ((scaleByte >>> k) & 1)));
            }
        }
        if (sumq2 > 0) dst.set(F32_LE, offset, sumqx / sumq2 * 1.01f);
    }

    /** The scale of the sub-block of 32 at x[from..]: the best of 2·15 candidate assignments, both signs. */
    private float fitScale(float[] x, int from) {
        float max = QuantMath.largestMagnitude(x, from, 32);
        float amax = Math.abs(max);
        if (amax < Iq4KSearch.ZERO_BLOCK) return 0f;
        float best = 0f;
        float d = -max / IqkGrid.IQ4.level(0, 0);
        for (int itry = -TRIES; itry <= TRIES; itry++) {
            for (int half = 0; half < 2; half++) {
                float id = (itry + IqkGrid.IQ4.level(half, 0)) / max;
                pass(x, from, id, half);
                if (sumq2P > 0 && sumqxP * sumqxP > best * sumq2P) {
                    d = sumqxP / sumq2P;
                    best = d * sumqxP;
                }
                if (sumq2M > 0 && sumqxM * sumqxM > best * sumq2M) {
                    d = sumqxM / sumq2M;
                    best = d * sumqxM;
                }
            }
        }
        return d;
    }

    private void pass(float[] x, int from, float id, int half) {
        float thisD = 1 / id;
        sumqxP = sumq2P = sumqxM = sumq2M = 0f;
        for (int k = 0; k < 8; k++) {
            load(x, from, k);
            int vp = 0;
            int vm = 0;
            for (int j = 0; j < 4; j++) {
                float al = id * xv[j];
                vp |= IqkGrid.IQ4.nearest(half, al) << (4 * j);
                vm |= IqkGrid.IQ4.nearest(half, -al) << (4 * j);
            }
            vp = prune(vp, half, thisD);
            vm = prune(vm, half, thisD);
            for (int j = 0; j < 4; j++) {
                float w = wv[j];
                float q = IqkGrid.IQ4.level(half, (vp >>> (4 * j)) & 0x0F);
                sumqxP += w * q * xv[j];
                sumq2P += w * q * q;
                q = IqkGrid.IQ4.level(half, (vm >>> (4 * j)) & 0x0F);
                sumqxM += w * q * xv[j];
                sumq2M += w * q * q;
            }
        }
    }

    /** The values and weights word k of a sub-block stores, in nibble order: 2k, 2k + 16, 2k + 1, 2k + 17. */
    private void load(float[] x, int from, int k) {
        xv[0] = x[from + 2 * k];
        xv[1] = x[from + 2 * k + 16];
        xv[2] = x[from + 2 * k + 1];
        xv[3] = x[from + 2 * k + 17];
        for (int j = 0; j < 4; j++) wv[j] = xv[j] * xv[j];
    }

    /**
     * Makes the popcount of a nibble quadruple even (ik_llama.cpp's prune_iq4ks). The error of the
     * current nibble is measured on the standard grid half even when {@code half} is the shifted one,
     * as ik_llama.cpp does, so that files come out identical.
     */
    private int prune(int v, int half, float dl) {
        if (Integer.bitCount(v) % 2 == 0) return v;
        float bestScore = Float.MAX_VALUE;
        int jBest = -1;
        int qBest = 0;
        for (int j = 0; j < 4; j++) {
            int q = (v >>> (4 * j)) & 0x0F;
            int pc = Integer.bitCount(q);
            float diff0 = dl * IqkGrid.IQ4.level(0, q) - xv[j];
            for (int iq = Math.max(q - 2, 0); iq <= Math.min(q + 2, 15); iq++) {
                if (iq == q || Math.abs(Integer.bitCount(iq) - pc) % 2 == 0) continue;
                float diff1 = dl * IqkGrid.IQ4.level(half, iq) - xv[j];
                float score = wv[j] * (diff1 * diff1 - diff0 * diff0);
                if (score < bestScore) {
                    bestScore = score;
                    jBest = j;
                    qBest = iq;
                }
            }
        }
        return (v & ~(0x0F << (4 * jBest))) | (qBest << (4 * jBest));
    }

    /** The 15-bit word w with w ^ (w << 1) = v for a v of even popcount: the prefix XOR of v's bits. */
    static int scramble(int v15) {
        int w = v15;
        w ^= w << 1;
        w ^= w << 2;
        w ^= w << 4;
        w ^= w << 8;
        return w & 0x7FFF;
    }
}
