package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.I256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * Q2_K weights against Q8_K activations, ggml's vec_dot_q2_K_q8_K. A super-block (84 bytes: 16 bytes
 * of 4-bit scale and min per sub-block of 16, 64 bytes of 2-bit levels, f16 d, f16 dmin) holds element
 * e = 128h + 32k + l as bits 2k of byte 16 + 32h + l; its value is d·sc_{e/16}·q − dmin·m_{e/16}, the
 * mins taken through the activations' sums per 16 (Q8_K's bsums) outside the per-weight loop.
 *
 * <p>Ranges (q ≤ 3, |a| ≤ 127, sc ≤ 15): two adjacent products ≤ 762, so the narrow pair sum holds; a
 * super-block adds at most 16·762·15 = 182,880 to an int lane.
 */
final class Q2_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 84;
    private static final int QS = 16;
    private static final int D = 80;
    private static final int DMIN = 82;

    @Override
    public ActivationFormat activation() { return ActivationFormat.Q8_K; }

    @Override
    public float dot(MemorySegment w, long rowOff, Activations a, int t) {
        int nb = a.k / 256;
        int ab = t * nb;
        int ao = t * a.k;
        int so = t * (a.k / 16);
        short[] aq = a.q;
        int[] sums = a.sums;
        int[] sc = KQuantDot.scaleScratch();
        FloatVector acc = FloatVector.zero(F256);
        float minAcc = 0;
        long off = rowOff;
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256, so += 16) {
            float da = a.d[ab + b];
            float d = Float.float16ToFloat(w.get(VecMath.I16, off + D)) * da;
            float dmin = Float.float16ToFloat(w.get(VecMath.I16, off + DMIN)) * da;
            long packedLo = w.get(KQuantDot.I64, off);
            long packedHi = w.get(KQuantDot.I64, off + 8);
            int minDot = 0;
            for (int j = 0; j < 8; j++) {
                int lo = (int) (packedLo >>> (8 * j)) & 0xFF;
                int hi = (int) (packedHi >>> (8 * j)) & 0xFF;
                sc[j] = lo & 0x0F;
                sc[j + 8] = hi & 0x0F;
                minDot += (lo >>> 4) * sums[so + j] + (hi >>> 4) * sums[so + j + 8];
            }
            IntVector isum = IntVector.zero(I256);
            // One sub-block of 16 per inner step (C2 stops inlining past a node budget and the Vector
            // API's inlined code is large); offsets are linear in the counters so that range checks hoist.
            for (int g = 0; g < 4; g++) {
                int h = g >> 1, half = g & 1;
                ShortVector levels = KQuantDot.unsignedBytes(w, off + QS + 32 * h + 16 * half);
                for (int k = 0, j = 8 * h + half; k < 4; k++, j += 2) {
                    ShortVector q = levels.lanewise(VectorOperators.LSHR, 2 * k).and((short) 3);
                    isum = isum.add(KQuantDot.pairSumNarrow(q.mul(ShortVector.fromArray(S256, aq, ao + 16 * j))).mul(sc[j]));
                }
            }
            minAcc += dmin * minDot;
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
        }
        return VecMath.sum(acc) - minAcc;
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        long off = rowOff;
        for (int i = 0; i < k; i += 256, off += BLOCK_BYTES) {
            float d = KQuantDot.half(w, off + D);
            float dmin = KQuantDot.half(w, off + DMIN);
            for (int h = 0; h < 2; h++) {
                for (int kq = 0; kq < 4; kq++) {
                    for (int l = 0; l < 32; l += 8) {
                        int packed = w.get(ValueLayout.JAVA_BYTE, off + 8 * h + 2 * kq + (l >> 4)) & 0xFF;
                        IntVector q = DequantSteps.unsigned8(w, off + QS + 32 * h + l).lanewise(VectorOperators.LSHR, 2 * kq).and(3);
                        DequantSteps.scaledMinus(q, d * (packed & 0x0F), dmin * (packed >>> 4), dst, dstOff + i + 128 * h + 32 * kq + l);
                    }
                }
            }
        }
    }
}
