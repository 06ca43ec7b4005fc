package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.cpu.DequantSteps.B64;
import static dev.panllama.cpu.IntDot.B128;
import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.I256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * IQ6_K weights against Q8_K activations (ik_llama.cpp's vec_dot_iq6_k_q8_k). A super-block (212 bytes:
 * f16 d, u16 extra, 16 int8 scales, 128 bytes of nibbles, 64 of high bit pairs) has sixteen sub-blocks
 * of 16. In 64-value chunk c, the 32 bytes at qs[32c] hold elements e (low nibbles) and 32 + e (high
 * nibbles); their bits 4-5 are bits 4(c % 2) and 4(c % 2) + 2 of qh[32(c / 2) + e]. A 6-bit level is four
 * byte shuffles (16 levels each) and two blends. Bit s of extra shifts sub-block s by +1, applied
 * through the activations' sums per 16.
 *
 * <p>Ranges (|level| ≤ 127, |scale| ≤ 128): two products ≤ 32,258 fit the narrow pair sum; a super-block
 * adds ≤ 32,258·128·16 to an int lane, exact in int (the float conversion may round above 2^24).
 */
final class IQ6_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 212;
    private static final int SCALES = 4;
    private static final int QS = 20;
    private static final int QH = 148;

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
        // Vector steps written in place, as in the K-quant kernels (see KQuantDot).
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256, so += 16) {
            int head = w.get(KQuantDot.I32, off);
            float d = Float.float16ToFloat((short) head) * a.d[ab + b];
            int extra = head >>> 16;
            IntVector sc0 = (IntVector) ByteVector.fromMemorySegment(B64, w, off + SCALES, VecMath.LE).convertShape(VectorOperators.B2I, I256, 0);
            IntVector sc1 = (IntVector) ByteVector.fromMemorySegment(B64, w, off + SCALES + 8, VecMath.LE).convertShape(VectorOperators.B2I, I256, 0);
            sc0.intoArray(sc, 0);
            sc1.intoArray(sc, 8);
            IntVector shifts = sc0.mul(IntVector.broadcast(I256, extra).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1)).mul(IntVector.fromArray(I256, sums, so))
                    .add(sc1.mul(IntVector.broadcast(I256, extra >>> 8).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1)).mul(IntVector.fromArray(I256, sums, so + 8)));
            acc = ((FloatVector) shifts.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
            IntVector isum = IntVector.zero(I256);
            for (int c = 0; c < 4; c++) {
                int bit = 4 * (c % 2);
                for (int half = 0; half < 2; half++) {
                    ByteVector q = ByteVector.fromMemorySegment(B128, w, off + QS + 32 * c + 16 * half, VecMath.LE);
                    ByteVector qh = ByteVector.fromMemorySegment(B128, w, off + QH + 32 * (c / 2) + 16 * half, VecMath.LE);
                    ByteVector lo = q.and((byte) 0x0F);
                    ByteVector hi = q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
                    // Masks of the lanes whose bit 4 (b4) or bit 5 (b5) is clear, for the low nibbles and the high ones.
                    VectorMask<Byte> b4 = qh.and((byte) (1 << bit)).compare(VectorOperators.EQ, (byte) 0);
                    VectorMask<Byte> b5 = qh.and((byte) (2 << bit)).compare(VectorOperators.EQ, (byte) 0);
                    ShortVector w0 = (ShortVector) lo.selectFrom(IqkTables.IQ6_3).blend(lo.selectFrom(IqkTables.IQ6_2), b4)
                            .blend(lo.selectFrom(IqkTables.IQ6_1).blend(lo.selectFrom(IqkTables.IQ6_0), b4), b5)
                            .convertShape(VectorOperators.B2S, S256, 0);
                    b4 = qh.and((byte) (4 << bit)).compare(VectorOperators.EQ, (byte) 0);
                    b5 = qh.and((byte) (8 << bit)).compare(VectorOperators.EQ, (byte) 0);
                    ShortVector w1 = (ShortVector) hi.selectFrom(IqkTables.IQ6_3).blend(hi.selectFrom(IqkTables.IQ6_2), b4)
                            .blend(hi.selectFrom(IqkTables.IQ6_1).blend(hi.selectFrom(IqkTables.IQ6_0), b4), b5)
                            .convertShape(VectorOperators.B2S, S256, 0);
                    IntVector p0 = w0.mul(ShortVector.fromArray(S256, aq, ao + 64 * c + 16 * half)).reinterpretAsInts();
                    IntVector p1 = w1.mul(ShortVector.fromArray(S256, aq, ao + 64 * c + 32 + 16 * half)).reinterpretAsInts();
                    p0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    p1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    isum = isum.add(p0.mul(IntVector.broadcast(I256, sc[4 * c + half]))).add(p1.mul(IntVector.broadcast(I256, sc[4 * c + 2 + half])));
                }
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
        }
        return ((acc.lane(0) + acc.lane(4)) + (acc.lane(2) + acc.lane(6))) + ((acc.lane(1) + acc.lane(5)) + (acc.lane(3) + acc.lane(7)));
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        long off = rowOff;
        for (int i = 0; i < k; i += 256, off += BLOCK_BYTES) {
            float d = KQuantDot.half(w, off);
            int extra = w.get(VecMath.I16, off + 2);
            for (int s = 0; s < 16; s++) {
                float dl = d * w.get(ValueLayout.JAVA_BYTE, off + SCALES + s);
                int shift = (extra >>> s) & 1;
                int c = s / 4;
                int high = (s / 2) % 2;
                int e0 = 16 * (s % 2);
                int o = dstOff + i + 16 * s;
                for (int l = 0; l < 16; l += 8) {
                    IntVector q = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + QS + 32L * c + e0 + l, VecMath.LE)).lanewise(VectorOperators.LSHR, 4 * high).and(0x0F)
                            .or(DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + QH + 32L * (c / 2) + e0 + l, VecMath.LE)).lanewise(VectorOperators.LSHR, 4 * (c % 2) + 2 * high).and(3).lanewise(VectorOperators.LSHL, 4));
                    DequantSteps.scaled(IqkDequant.levels(q, IqkTables.IQ6_0, IqkTables.IQ6_1, IqkTables.IQ6_2, IqkTables.IQ6_3).add(shift), dl, dst, o + l);
                }
            }
        }
    }
}
