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
    private static final ShortVector BIT4 = ShortVector.broadcast(S256, (short) 0x10);

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
        // Every vector step is a Vector API call written in place, with no helper of ours: this method
        // is past C2's inlining budget, where those are still inlined but our own code would stay out
        // of line and box its vectors. The sum at the end is VecMath.sum's order written out likewise.
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256, so += 16) {
            long head = w.get(KQuantDot.I64, off);       // d, dmin, scale bytes 0-3
            long packed = w.get(KQuantDot.I64, off + 8);  // scale bytes 4-11
            float da = a.d[ab + b];
            int s0 = (int) (head >>> 32), s1 = (int) packed, s2 = (int) (packed >>> 32);
            int scLo = s0 & 0x3f3f3f3f;
            int scHi = (s2 & 0x0f0f0f0f) | (((s0 >>> 6) & 0x03030303) << 4);
            int mnLo = s1 & 0x3f3f3f3f;
            int mnHi = ((s2 >>> 4) & 0x0f0f0f0f) | (((s1 >>> 6) & 0x03030303) << 4);
            // Mins as for Q4_K.
            IntVector mins = IntVector.broadcast(I256, mnLo).lanewise(VectorOperators.LSHR, KQuantDot.PAIR_SHIFTS).and(0xFF)
                    .mul(IntVector.fromArray(I256, sums, so))
                    .add(IntVector.broadcast(I256, mnHi).lanewise(VectorOperators.LSHR, KQuantDot.PAIR_SHIFTS).and(0xFF)
                            .mul(IntVector.fromArray(I256, sums, so + 8)));
            // The fifth bits, moved up by 4 so that bit j of a byte lands on 16 after a shift by j.
            ShortVector h0 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off + QH, VecMath.LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0)).lanewise(VectorOperators.LSHL, 4);
            ShortVector h1 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off + QH + 16, VecMath.LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0)).lanewise(VectorOperators.LSHL, 4);
            // Sub-blocks 2c (low nibbles) and 2c + 1 (high nibbles) for c = 0..3, written out, not looped: as
            // for Q4_K, C2 compiled the loop differently from run to run, and some JVMs ran a third slower.
            ShortVector l0a = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + QS + 0, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector l0b = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + QS + 16, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector t0a = h0;
            ShortVector t0b = h1;
            IntVector lo0 = l0a.and(KQuantDot.LOW4).or(t0a.and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 0))
                    .add(l0b.and(KQuantDot.LOW4).or(t0b.and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 16))).reinterpretAsInts();
            IntVector hi0 = l0a.lanewise(VectorOperators.LSHR, 4).or(t0a.lanewise(VectorOperators.LSHR, 1).and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 32))
                    .add(l0b.lanewise(VectorOperators.LSHR, 4).or(t0b.lanewise(VectorOperators.LSHR, 1).and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 48))).reinterpretAsInts();
            lo0 = lo0.add(lo0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi0 = hi0.add(hi0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            ShortVector l1a = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + QS + 32, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector l1b = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + QS + 48, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector t1a = h0.lanewise(VectorOperators.LSHR, 2);
            ShortVector t1b = h1.lanewise(VectorOperators.LSHR, 2);
            IntVector lo1 = l1a.and(KQuantDot.LOW4).or(t1a.and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 64))
                    .add(l1b.and(KQuantDot.LOW4).or(t1b.and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 80))).reinterpretAsInts();
            IntVector hi1 = l1a.lanewise(VectorOperators.LSHR, 4).or(t1a.lanewise(VectorOperators.LSHR, 1).and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 96))
                    .add(l1b.lanewise(VectorOperators.LSHR, 4).or(t1b.lanewise(VectorOperators.LSHR, 1).and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 112))).reinterpretAsInts();
            lo1 = lo1.add(lo1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi1 = hi1.add(hi1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            ShortVector l2a = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + QS + 64, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector l2b = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + QS + 80, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector t2a = h0.lanewise(VectorOperators.LSHR, 4);
            ShortVector t2b = h1.lanewise(VectorOperators.LSHR, 4);
            IntVector lo2 = l2a.and(KQuantDot.LOW4).or(t2a.and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 128))
                    .add(l2b.and(KQuantDot.LOW4).or(t2b.and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 144))).reinterpretAsInts();
            IntVector hi2 = l2a.lanewise(VectorOperators.LSHR, 4).or(t2a.lanewise(VectorOperators.LSHR, 1).and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 160))
                    .add(l2b.lanewise(VectorOperators.LSHR, 4).or(t2b.lanewise(VectorOperators.LSHR, 1).and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 176))).reinterpretAsInts();
            lo2 = lo2.add(lo2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi2 = hi2.add(hi2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            ShortVector l3a = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + QS + 96, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector l3b = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + QS + 112, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector t3a = h0.lanewise(VectorOperators.LSHR, 6);
            ShortVector t3b = h1.lanewise(VectorOperators.LSHR, 6);
            IntVector lo3 = l3a.and(KQuantDot.LOW4).or(t3a.and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 192))
                    .add(l3b.and(KQuantDot.LOW4).or(t3b.and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 208))).reinterpretAsInts();
            IntVector hi3 = l3a.lanewise(VectorOperators.LSHR, 4).or(t3a.lanewise(VectorOperators.LSHR, 1).and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 224))
                    .add(l3b.lanewise(VectorOperators.LSHR, 4).or(t3b.lanewise(VectorOperators.LSHR, 1).and(BIT4)).mul(ShortVector.fromArray(S256, aq, ao + 240))).reinterpretAsInts();
            lo3 = lo3.add(lo3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi3 = hi3.add(hi3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            // Narrow pair sums (KQuantDot.pairSumNarrow, written out above), times each sub-block's scale.
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
            for (int j = 0; j < 8; j++) {
                int shift = 8 * (j & 3);
                float scale = d * (((j < 4 ? scLo : scHi) >>> shift) & 0xFF);
                float min = dmin * (((j < 4 ? mnLo : mnHi) >>> shift) & 0xFF);
                for (int l = 0; l < 32; l += 8) {
                    IntVector low = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + QS + 32 * (j >> 1) + l, VecMath.LE)).lanewise(VectorOperators.LSHR, 4 * (j & 1)).and(0x0F);
                    IntVector high = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + QH + l, VecMath.LE)).lanewise(VectorOperators.LSHR, j).and(1).lanewise(VectorOperators.LSHL, 4);
                    DequantSteps.scaledMinus(low.add(high), scale, min, dst, dstOff + i + 32 * j + l);
                }
            }
        }
    }
}
