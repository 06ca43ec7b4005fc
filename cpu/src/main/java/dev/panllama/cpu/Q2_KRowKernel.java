package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.cpu.DequantSteps.B64;
import static dev.panllama.cpu.IntDot.B128;
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
    private static final ShortVector LOW2 = ShortVector.broadcast(S256, (short) 3);

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
            float da = a.d[ab + b];
            float d = Float.float16ToFloat(w.get(VecMath.I16, off + D)) * da;
            float dmin = Float.float16ToFloat(w.get(VecMath.I16, off + DMIN)) * da;
            // Scale (low nibble) and min (high nibble) of the 16 sub-blocks: scales into the scratch for
            // one broadcast load each, mins against the activations' sums per 16.
            IntVector packed0 = (IntVector) ByteVector.fromMemorySegment(B64, w, off, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 0);
            IntVector packed1 = (IntVector) ByteVector.fromMemorySegment(B64, w, off + 8, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 0);
            packed0.and(0x0F).intoArray(sc, 0);
            packed1.and(0x0F).intoArray(sc, 8);
            IntVector mins = packed0.lanewise(VectorOperators.LSHR, 4).mul(IntVector.fromArray(I256, sums, so))
                    .add(packed1.lanewise(VectorOperators.LSHR, 4).mul(IntVector.fromArray(I256, sums, so + 8)));
            IntVector isum = IntVector.zero(I256);
            // 16 level bytes per outer step hold four sub-blocks (bits 2k); offsets are linear in the
            // counters so that range checks hoist.
            for (int g = 0; g < 4; g++) {
                int h = g >> 1, half = g & 1;
                ShortVector levels = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + QS + 32 * h + 16 * half, VecMath.LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                for (int k = 0, j = 8 * h + half; k < 4; k++, j += 2) {
                    IntVector p = levels.lanewise(VectorOperators.LSHR, 2 * k).and(LOW2).mul(ShortVector.fromArray(S256, aq, ao + 16 * j)).reinterpretAsInts();
                    // Narrow pair sum (KQuantDot.pairSumNarrow, written out), times the scale.
                    p = p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    isum = isum.add(p.mul(IntVector.broadcast(I256, sc[j])));
                }
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
            acc = ((FloatVector) mins.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, -dmin), acc);
        }
        return ((acc.lane(0) + acc.lane(4)) + (acc.lane(2) + acc.lane(6))) + ((acc.lane(1) + acc.lane(5)) + (acc.lane(3) + acc.lane(7)));
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        long off = rowOff;
        for (int i = 0; i < k; i += 256, off += BLOCK_BYTES) {
            float d = KQuantDot.half(w, off + D);
            float dmin = KQuantDot.half(w, off + DMIN);
            for (int h = 0; h < 2; h++) {
                for (int kq = 0; kq < 4; kq++) {
                    for (int l = 0; l < 32; l += 8) {
                        int packed = w.get(ValueLayout.JAVA_BYTE, off + 8 * h + 2 * kq + (l >> 4)) & 0xFF;
                        IntVector q = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + QS + 32 * h + l, VecMath.LE)).lanewise(VectorOperators.LSHR, 2 * kq).and(3);
                        DequantSteps.scaledMinus(q, d * (packed & 0x0F), dmin * (packed >>> 4), dst, dstOff + i + 128 * h + 32 * kq + l);
                    }
                }
            }
        }
    }
}
