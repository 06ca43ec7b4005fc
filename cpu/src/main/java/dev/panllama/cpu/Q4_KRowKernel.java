package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.I256;

/**
 * Q4_K weights against Q8_K activations, ggml's vec_dot_q4_K_q8_K. A super-block (144 bytes: f16 d,
 * f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles; 32 bytes hold sub-block 2c in
 * their low nibbles and 2c+1 in their high ones) contributes
 * d·d_a·Σ_j sc_j·Σ q·a − dmin·d_a·Σ_j m_j·(bsum_2j + bsum_2j+1), the second term from the activations'
 * sums per 16 so that the mins never touch the per-weight loop.
 *
 * <p>Ranges (q ≤ 15, |a| ≤ 127, sc ≤ 63): four products of adjacent lanes ≤ 7620, so the narrow pair
 * sum holds; one sub-block adds ≤ 7620·63 = 480,060 to each of the 8 int lanes, a super-block
 * ≤ 3,840,480, below 2^24: the integer lanes convert to float exactly, once per super-block.
 */
final class Q4_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 144;

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
        FloatVector acc = FloatVector.zero(F256);
        float minAcc = 0;
        long off = rowOff;
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256, so += 16) {
            // Scalars first: C2 inlines calls in bytecode order until its node budget runs out, and the
            // vector code below is large; a call left out of line here would spill every vector register.
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
            int minDot = 0;
            IntVector isum = IntVector.zero(I256);
            // The scalar work of each pair of sub-blocks sits in the same step as its vector work, where
            // the integer units are otherwise idle.
            for (int c = 0, s = so; c < 4; c++, s += 4) {
                int shift = 16 * (c & 1);
                int scales = (c < 2 ? scLo : scHi) >>> shift;
                int mins = (c < 2 ? mnLo : mnHi) >>> shift;
                minDot += (mins & 0xFF) * (sums[s] + sums[s + 1]) + ((mins >>> 8) & 0xFF) * (sums[s + 2] + sums[s + 3]);
                isum = isum.add(chunk(w, off + 16 + 32L * c, aq, ao + 64 * c, scales & 0xFF, (scales >>> 8) & 0xFF));
            }
            minAcc += dmin * minDot;
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
        }
        return VecMath.sum(acc) - minAcc;
    }

    /**
     * 64 weights (32 bytes: low nibbles are sub-block 2c, high nibbles sub-block 2c+1) against
     * a[ao, ao + 64), each sub-block's sum times its scale.
     */
    private static IntVector chunk(MemorySegment w, long qo, short[] aq, int ao, int scLow, int scHigh) {
        ShortVector q0 = KQuantDot.unsignedBytes(w, qo);
        ShortVector q1 = KQuantDot.unsignedBytes(w, qo + 16);
        IntVector lo = KQuantDot.dot32Narrow(q0.and((short) 0x0F), q1.and((short) 0x0F), aq, ao);
        IntVector hi = KQuantDot.dot32Narrow(q0.lanewise(VectorOperators.LSHR, 4), q1.lanewise(VectorOperators.LSHR, 4), aq, ao + 32);
        return lo.mul(scLow).add(hi.mul(scHigh));
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
            for (int c = 0; c < 4; c++) {
                int shift = 16 * (c & 1);
                int sc = (c < 2 ? scLo : scHi) >>> shift;
                int mn = (c < 2 ? mnLo : mnHi) >>> shift;
                float scaleLo = d * (sc & 0xFF), minLo = dmin * (mn & 0xFF);
                float scaleHi = d * ((sc >>> 8) & 0xFF), minHi = dmin * ((mn >>> 8) & 0xFF);
                for (int l = 0; l < 32; l += 8) {
                    IntVector q = DequantSteps.unsigned8(w, off + 16 + 32L * c + l);
                    int o = dstOff + i + 64 * c + l;
                    DequantSteps.scaledMinus(q.and(0x0F), scaleLo, minLo, dst, o);
                    DequantSteps.scaledMinus(q.lanewise(VectorOperators.LSHR, 4), scaleHi, minHi, dst, o + 32);
                }
            }
        }
    }
}
