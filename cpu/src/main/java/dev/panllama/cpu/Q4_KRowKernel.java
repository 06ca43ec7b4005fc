package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.DequantSteps.B64;
import static dev.panllama.cpu.IntDot.B128;
import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.I256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * Q4_K weights against Q8_K activations, ggml's vec_dot_q4_K_q8_K. A super-block (144 bytes: f16 d,
 * f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles; 32 bytes hold sub-block 2c in
 * their low nibbles and 2c+1 in their high ones) contributes
 * d·d_a·Σ_j sc_j·Σ q·a − dmin·d_a·Σ_j m_j·(bsum_2j + bsum_2j+1), the second term from the activations'
 * sums per 16 so that the mins never touch the per-weight loop.
 *
 * <p>The mins term is kept in 8 int lanes (each ≤ 2·63·2,032) and accumulated in float like the main
 * sum. Ranges (q ≤ 15, |a| ≤ 127, sc ≤ 63): four products of adjacent lanes ≤ 7620, so the narrow pair
 * sum holds; one sub-block adds ≤ 7620·63 = 480,060 to each of the 8 int lanes, a super-block
 * ≤ 3,840,480, below 2^24: the integer lanes convert to float exactly, once per super-block.
 */
final class Q4_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 144;

    @Override
    public ActivationFormat activation() { return ActivationFormat.Q8_K; }

    @Override
    public void dotTokens(MemorySegment w, long rowOff, Activations a, float[] y, int yOff, int yStride) {
        for (int t = 0; t < a.tokens; t++) y[t * yStride + yOff] = dot(w, rowOff, a, t);   // per class: see RowKernel
    }

    @Override
    public float dot(MemorySegment w, long rowOff, Activations a, int t) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        int nb = a.k / 256;
        int ab = t * nb;
        int ao = t * a.k;
        int so = t * (a.k / 16);
        short[] aq = a.q;
        int[] sums = a.sums;
        FloatVector acc = FloatVector.zero(F256);
        long off = rowOff;
        // Every step below is a Vector API call written out in place, with no helper of ours: past
        // C2's inlining budget (which this method exceeds) the Vector API's methods are still inlined,
        // our own would stay out of line and box their vectors. The sum at the end is VecMath.sum's
        // order written out for the same reason.
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256, so += 16) {
            long head = w.get(KQuantDot.I64, off);       // d, dmin, scale bytes 0-3
            long packed = w.get(KQuantDot.I64, off + 8);  // scale bytes 4-11
            float da = a.d[ab + b];
            int s0 = (int) (head >>> 32), s1 = (int) packed, s2 = (int) (packed >>> 32);
            int scLo = s0 & 0x3f3f3f3f;
            int scHi = (s2 & 0x0f0f0f0f) | (((s0 >>> 6) & 0x03030303) << 4);
            int mnLo = s1 & 0x3f3f3f3f;
            int mnHi = ((s2 >>> 4) & 0x0f0f0f0f) | (((s1 >>> 6) & 0x03030303) << 4);
            IntVector mins = IntVector.broadcast(I256, mnLo).lanewise(VectorOperators.LSHR, KQuantDot.PAIR_SHIFTS).and(0xFF)
                    .mul(IntVector.fromArray(I256, sums, so))
                    .add(IntVector.broadcast(I256, mnHi).lanewise(VectorOperators.LSHR, KQuantDot.PAIR_SHIFTS).and(0xFF)
                            .mul(IntVector.fromArray(I256, sums, so + 8)));
            // The four groups of 64 weights (32 bytes: sub-block 2c in the low nibbles, 2c+1 in the high ones)
            // written out, not looped: C2 compiled the loop differently from run to run (as the profile of the
            // moment unrolled it or not), and one JVM in three then ran this kernel a third slower.
            ShortVector q0a = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + 16, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector q0b = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + 32, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            IntVector lo0 = q0a.and(KQuantDot.LOW4).mul(ShortVector.fromArray(S256, aq, ao + 0))
                    .add(q0b.and(KQuantDot.LOW4).mul(ShortVector.fromArray(S256, aq, ao + 16))).reinterpretAsInts();
            IntVector hi0 = q0a.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, aq, ao + 32))
                    .add(q0b.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, aq, ao + 48))).reinterpretAsInts();
            lo0 = lo0.add(lo0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi0 = hi0.add(hi0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            ShortVector q1a = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + 48, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector q1b = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + 64, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            IntVector lo1 = q1a.and(KQuantDot.LOW4).mul(ShortVector.fromArray(S256, aq, ao + 64))
                    .add(q1b.and(KQuantDot.LOW4).mul(ShortVector.fromArray(S256, aq, ao + 80))).reinterpretAsInts();
            IntVector hi1 = q1a.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, aq, ao + 96))
                    .add(q1b.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, aq, ao + 112))).reinterpretAsInts();
            lo1 = lo1.add(lo1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi1 = hi1.add(hi1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            ShortVector q2a = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + 80, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector q2b = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + 96, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            IntVector lo2 = q2a.and(KQuantDot.LOW4).mul(ShortVector.fromArray(S256, aq, ao + 128))
                    .add(q2b.and(KQuantDot.LOW4).mul(ShortVector.fromArray(S256, aq, ao + 144))).reinterpretAsInts();
            IntVector hi2 = q2a.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, aq, ao + 160))
                    .add(q2b.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, aq, ao + 176))).reinterpretAsInts();
            lo2 = lo2.add(lo2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi2 = hi2.add(hi2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            ShortVector q3a = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + 112, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector q3b = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + 128, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            IntVector lo3 = q3a.and(KQuantDot.LOW4).mul(ShortVector.fromArray(S256, aq, ao + 192))
                    .add(q3b.and(KQuantDot.LOW4).mul(ShortVector.fromArray(S256, aq, ao + 208))).reinterpretAsInts();
            IntVector hi3 = q3a.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, aq, ao + 224))
                    .add(q3b.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S256, aq, ao + 240))).reinterpretAsInts();
            lo3 = lo3.add(lo3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi3 = hi3.add(hi3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            IntVector isum = lo0.mul(scLo & 0xFF).add(hi0.mul((scLo >>> 8) & 0xFF))
                    .add(lo1.mul((scLo >>> 16) & 0xFF).add(hi1.mul(scLo >>> 24)))
                    .add(lo2.mul(scHi & 0xFF).add(hi2.mul((scHi >>> 8) & 0xFF)))
                    .add(lo3.mul((scHi >>> 16) & 0xFF).add(hi3.mul(scHi >>> 24)));
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F256, Float.float16ToFloat((short) head) * da), acc);
            acc = ((FloatVector) mins.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F256, -Float.float16ToFloat((short) (head >>> 16)) * da), acc);
        }
        return ((acc.lane(0) + acc.lane(4)) + (acc.lane(2) + acc.lane(6))) + ((acc.lane(1) + acc.lane(5)) + (acc.lane(3) + acc.lane(7)));
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
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
                    IntVector q = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + 16 + 32L * c + l, VecMath.LE));
                    int o = dstOff + i + 64 * c + l;
                    DequantSteps.scaledMinus(q.and(0x0F), scaleLo, minLo, dst, o);
                    DequantSteps.scaledMinus(q.lanewise(VectorOperators.LSHR, 4), scaleHi, minHi, dst, o + 32);
                }
            }
        }
    }
}
