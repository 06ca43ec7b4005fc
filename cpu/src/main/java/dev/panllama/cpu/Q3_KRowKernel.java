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
 * Q3_K weights against Q8_K activations, ggml's vec_dot_q3_K_q8_K. A super-block (110 bytes: 32 bytes
 * of high bits, 64 of 2-bit low parts, 12 of packed 6-bit scales, f16 d) holds element
 * e = 128h + 32k + l as the bits 2k of byte 32 + 32h + l, plus bit 4h + k of byte l as 4; its value is
 * d·(sc_{e/16} − 32)·(q − 4). The −4 is taken through the activations' sums per 16 (as ggml does for
 * Q6_K's −32), so the per-weight loop multiplies q ∈ [0, 7].
 *
 * <p>Ranges (q ≤ 7, |a| ≤ 127, |sc − 32| ≤ 32): two adjacent products ≤ 1,778, so the narrow pair sum
 * holds; a sub-block adds ≤ 56,896 to an int lane, a super-block ≤ 910,336 < 2^24.
 */
final class Q3_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 110;
    private static final int QS = 32;
    private static final int SCALES = 96;
    private static final int D = 108;
    private static final ShortVector LOW2 = ShortVector.broadcast(S256, (short) 3);
    private static final ShortVector BIT2 = ShortVector.broadcast(S256, (short) 4);

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
        int[] sc = KQuantDot.scaleScratch();
        FloatVector acc = FloatVector.zero(F256);
        long off = rowOff;
        // Every vector step is a Vector API call written in place, with no helper of ours: this method
        // is past C2's inlining budget, where those are still inlined but our own code would stay out
        // of line and box its vectors. The sum at the end is VecMath.sum's order written out likewise.
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256, so += 16) {
            float d = Float.float16ToFloat(w.get(VecMath.I16, off + D)) * a.d[ab + b];
            int lowNibbles = w.get(KQuantDot.I32, off + SCALES);
            int highNibbles = w.get(KQuantDot.I32, off + SCALES + 4);
            int topBits = w.get(KQuantDot.I32, off + SCALES + 8);
            // The 16 scales (minus 32) into the scratch for one broadcast load each, and their products
            // with the activations' sums per 16 for the −4 offset.
            IntVector sc0 = IntVector.broadcast(I256, scaleWord(lowNibbles, highNibbles, topBits, 0))
                    .blend(scaleWord(lowNibbles, highNibbles, topBits, 1), KQuantDot.UPPER_HALF)
                    .lanewise(VectorOperators.LSHR, KQuantDot.BYTE_SHIFTS).and(0xFF).sub(32);
            IntVector sc1 = IntVector.broadcast(I256, scaleWord(lowNibbles, highNibbles, topBits, 2))
                    .blend(scaleWord(lowNibbles, highNibbles, topBits, 3), KQuantDot.UPPER_HALF)
                    .lanewise(VectorOperators.LSHR, KQuantDot.BYTE_SHIFTS).and(0xFF).sub(32);
            sc0.intoArray(sc, 0);
            sc1.intoArray(sc, 8);
            IntVector offsets = sc0.mul(IntVector.fromArray(I256, sums, so)).add(sc1.mul(IntVector.fromArray(I256, sums, so + 8)));
            IntVector isum = IntVector.zero(I256);
            // One sub-block of 16 per innermost step; offsets are linear in the counters so that range
            // checks hoist.
            for (int half = 0; half < 2; half++) {
                // The high bits of elements 16·half + (0..15) of every 32: bit 4h + k of these bytes.
                ShortVector hm = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off + 16 * half, VecMath.LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0)).lanewise(VectorOperators.LSHL, 2);
                for (int h = 0; h < 2; h++) {
                    ShortVector low = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + QS + 32 * h + 16 * half, VecMath.LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                    for (int k = 0, j = 8 * h + half; k < 4; k++, j += 2) {
                        IntVector p = low.lanewise(VectorOperators.LSHR, 2 * k).and(LOW2)
                                .or(hm.lanewise(VectorOperators.LSHR, 4 * h + k).and(BIT2))
                                .mul(ShortVector.fromArray(S256, aq, ao + 16 * j)).reinterpretAsInts();
                        // Narrow pair sum (KQuantDot.pairSumNarrow, written out), times the scale.
                        p = p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                        isum = isum.add(p.mul(IntVector.broadcast(I256, sc[j])));
                    }
                }
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
            acc = ((FloatVector) offsets.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, -4 * d), acc);
        }
        return ((acc.lane(0) + acc.lane(4)) + (acc.lane(2) + acc.lane(6))) + ((acc.lane(1) + acc.lane(5)) + (acc.lane(3) + acc.lane(7)));
    }

    /**
     * Scales 4g..4g+3 as the bytes of one int, from the 12 packed bytes read as three little-endian
     * ints: the low nibble of scale j is nibble j/8 of byte j%8 (bytes 0-7), its top two bits are bits
     * 2·(j/4) of byte 8 + j%4.
     */
    private static int scaleWord(int lowNibbles, int highNibbles, int topBits, int g) {
        int low = (((g & 1) == 0 ? lowNibbles : highNibbles) >>> (4 * (g >> 1))) & 0x0F0F0F0F;
        return low | (((topBits >>> (2 * g)) & 0x03030303) << 4);
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        int[] sc = KQuantDot.scaleScratch();
        long off = rowOff;
        for (int i = 0; i < k; i += 256, off += BLOCK_BYTES) {
            float d = KQuantDot.half(w, off + D);
            int lowNibbles = w.get(KQuantDot.I32, off + SCALES);
            int highNibbles = w.get(KQuantDot.I32, off + SCALES + 4);
            int topBits = w.get(KQuantDot.I32, off + SCALES + 8);
            for (int g = 0; g < 4; g++) {
                int word = scaleWord(lowNibbles, highNibbles, topBits, g);
                for (int b = 0; b < 4; b++) sc[4 * g + b] = ((word >>> (8 * b)) & 0xFF) - 32;
            }
            for (int h = 0; h < 2; h++) {
                for (int kq = 0; kq < 4; kq++) {
                    for (int l = 0; l < 32; l += 8) {
                        float step = d * sc[8 * h + 2 * kq + (l >> 4)];
                        IntVector low = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + QS + 32 * h + l, VecMath.LE)).lanewise(VectorOperators.LSHR, 2 * kq).and(3);
                        IntVector high = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + l, VecMath.LE)).lanewise(VectorOperators.LSHR, 4 * h + kq).and(1);
                        DequantSteps.scaled(low.or(high.lanewise(VectorOperators.LSHL, 2)).sub(4), step, dst, dstOff + i + 128 * h + 32 * kq + l);
                    }
                }
            }
        }
    }
}
