package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.I256;

/**
 * Q5_K weights against Q8_K activations, ggml's vec_dot_q5_K_q8_K. A super-block (176 bytes: f16 d,
 * f16 dmin, 12 bytes of 6-bit scales and mins packed as in Q4_K, 32 bytes of fifth bits, 128 bytes of
 * nibbles) holds sub-block j's element l as the nibble (4·(j%2)) of byte 48 + 32·(j/2) + l plus bit j
 * of byte 16 + l as 16; the value is d·sc_j·q − dmin·m_j, the mins taken through the activations'
 * sums per 16 as for Q4_K.
 *
 * <p>Ranges (q ≤ 31, |a| ≤ 127, sc ≤ 63): four products of adjacent lanes ≤ 15,748, so the narrow pair
 * sum holds; a sub-block adds ≤ 15,748·63 = 992,124 to an int lane, a super-block ≤ 7,936,992 < 2^24,
 * so the lanes convert to float exactly once per super-block.
 */
final class Q5_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 176;
    private static final int QH = 16;
    private static final int QS = 48;
    private static final ShortVector LOW4 = ShortVector.broadcast(IntDot.S256, (short) 0x0F);
    private static final ShortVector BIT4 = ShortVector.broadcast(IntDot.S256, (short) 0x10);

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
            long head = w.get(KQuantDot.I64, off);       // d, dmin, scale bytes 0-3
            long packed = w.get(KQuantDot.I64, off + 8);  // scale bytes 4-11
            float da = a.d[ab + b];
            float d = Float.float16ToFloat((short) head) * da;
            float dmin = Float.float16ToFloat((short) (head >>> 16)) * da;
            int s0 = (int) (head >>> 32), s1 = (int) packed, s2 = (int) (packed >>> 32);
            int scLo = s0 & 0x3f3f3f3f;
            int scHi = (s2 & 0x0f0f0f0f) | (((s0 >>> 6) & 0x03030303) << 4);
            int mnLo = s1 & 0x3f3f3f3f;
            int mnHi = ((s2 >>> 4) & 0x0f0f0f0f) | (((s1 >>> 6) & 0x03030303) << 4);
            // The fifth bits, moved up by 4 so that bit j of a byte lands on 16 after a shift by j.
            ShortVector h0 = KQuantDot.unsignedBytes(w, off + QH).lanewise(VectorOperators.LSHL, 4);
            ShortVector h1 = KQuantDot.unsignedBytes(w, off + QH + 16).lanewise(VectorOperators.LSHL, 4);
            int minDot = 0;
            for (int j = 0; j < 4; j++) {
                int shift = 8 * j;
                sc[j] = (scLo >>> shift) & 0xFF;
                sc[j + 4] = (scHi >>> shift) & 0xFF;
                minDot += ((mnLo >>> shift) & 0xFF) * (sums[so + 2 * j] + sums[so + 2 * j + 1]);
                minDot += ((mnHi >>> shift) & 0xFF) * (sums[so + 8 + 2 * j] + sums[so + 9 + 2 * j]);
            }
            IntVector isum = IntVector.zero(I256);
            // 32 bytes of nibbles per outer step, sub-blocks 2c (low) and 2c + 1 (high) in the inner one:
            // C2 stops inlining past a node budget and the Vector API's inlined code is large, so the
            // body covers one sub-block; offsets are linear in the counters so that range checks hoist.
            for (int c = 0; c < 4; c++) {
                ShortVector l0 = KQuantDot.unsignedBytes(w, off + QS + 32 * c);
                ShortVector l1 = KQuantDot.unsignedBytes(w, off + QS + 32 * c + 16);
                for (int n = 0, j = 2 * c; n < 2; n++, j++) {
                    ShortVector q0 = l0.lanewise(VectorOperators.LSHR, 4 * n).and(LOW4).or(h0.lanewise(VectorOperators.LSHR, j).and(BIT4));
                    ShortVector q1 = l1.lanewise(VectorOperators.LSHR, 4 * n).and(LOW4).or(h1.lanewise(VectorOperators.LSHR, j).and(BIT4));
                    isum = isum.add(KQuantDot.dot32Narrow(q0, q1, aq, ao + 32 * j).mul(sc[j]));
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
            float d = KQuantDot.half(w, off);
            float dmin = KQuantDot.half(w, off + 2);
            int s0 = w.get(KQuantDot.I32, off + 4);
            int s1 = w.get(KQuantDot.I32, off + 8);
            int s2 = w.get(KQuantDot.I32, off + 12);
            int scLo = s0 & 0x3f3f3f3f;
            int scHi = (s2 & 0x0f0f0f0f) | (((s0 >>> 6) & 0x03030303) << 4);
            int mnLo = s1 & 0x3f3f3f3f;
            int mnHi = ((s2 >>> 4) & 0x0f0f0f0f) | (((s1 >>> 6) & 0x03030303) << 4);
            for (int j = 0; j < 8; j++) {
                int shift = 8 * (j & 3);
                float scale = d * (((j < 4 ? scLo : scHi) >>> shift) & 0xFF);
                float min = dmin * (((j < 4 ? mnLo : mnHi) >>> shift) & 0xFF);
                for (int l = 0; l < 32; l += 8) {
                    IntVector low = DequantSteps.unsigned8(w, off + QS + 32 * (j >> 1) + l).lanewise(VectorOperators.LSHR, 4 * (j & 1)).and(0x0F);
                    IntVector high = DequantSteps.unsigned8(w, off + QH + l).lanewise(VectorOperators.LSHR, j).and(1).lanewise(VectorOperators.LSHL, 4);
                    DequantSteps.scaledMinus(low.add(high), scale, min, dst, dstOff + i + 32 * j + l);
                }
            }
        }
    }
}
