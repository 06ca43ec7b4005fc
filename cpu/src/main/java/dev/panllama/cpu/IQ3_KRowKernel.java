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
 * IQ3_K weights against Q8_K activations (ik_llama.cpp's vec_dot_iq3_k_q8_k). A super-block (110 bytes:
 * f16 d, u16 extra, u16 scale signs, 8 bytes of 4-bit scales, 64 bytes of 2-bit index parts, 32 bytes of
 * third bits) has sixteen sub-blocks of 16 with odd scales ±(2·nibble + 1). Group g's elements 0..15
 * and 16..31 take their low index bits from bits 2(g % 4) of the 16-byte runs at qs[32(g / 4)] and
 * qs[32(g / 4) + 16], their third bit from bit g of qh[0..15] and qh[16..31]; an index is one byte
 * shuffle into the IQ3 grid. Bit s of extra shifts sub-block s by +4, through the sums per 16.
 *
 * <p>Ranges (|level| ≤ 63, |scale| ≤ 31): two products ≤ 16,002, narrow pair sums; a super-block adds
 * ≤ 16·16,002·31 to an int lane.
 */
final class IQ3_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 110;
    private static final int SCALES_L = 6;
    private static final int QS = 14;
    private static final int QH = 78;

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
            long head = w.get(KQuantDot.I64, off);
            long packed = w.get(KQuantDot.I64, off + SCALES_L);
            float d = Float.float16ToFloat((short) head) * a.d[ab + b];
            int extra = (int) (head >>> 16);
            int signs = (int) (head >>> 32);
            // ±(2n + 1): the sign applied as (v ^ m) − m with m = 0 or −1.
            IntVector neg0 = IntVector.broadcast(I256, signs).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1).neg();
            IntVector neg1 = IntVector.broadcast(I256, signs >>> 8).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1).neg();
            IntVector ls0 = IntVector.broadcast(I256, (int) packed).lanewise(VectorOperators.LSHR, IqkTables.NIBBLE_SHIFTS).and(0x0F)
                    .lanewise(VectorOperators.LSHL, 1).add(1).lanewise(VectorOperators.XOR, neg0).sub(neg0);
            IntVector ls1 = IntVector.broadcast(I256, (int) (packed >>> 32)).lanewise(VectorOperators.LSHR, IqkTables.NIBBLE_SHIFTS).and(0x0F)
                    .lanewise(VectorOperators.LSHL, 1).add(1).lanewise(VectorOperators.XOR, neg1).sub(neg1);
            ls0.intoArray(sc, 0);
            ls1.intoArray(sc, 8);
            IntVector shifts = ls0.mul(IntVector.broadcast(I256, extra).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1)).mul(IntVector.fromArray(I256, sums, so))
                    .add(ls1.mul(IntVector.broadcast(I256, extra >>> 8).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1)).mul(IntVector.fromArray(I256, sums, so + 8)));
            acc = ((FloatVector) shifts.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, 4 * d), acc);
            ShortVector h0 = ByteVector.fromMemorySegment(B128, w, off + QH, VecMath.LE).reinterpretAsShorts();
            ShortVector h1 = ByteVector.fromMemorySegment(B128, w, off + QH + 16, VecMath.LE).reinterpretAsShorts();
            IntVector isum = IntVector.zero(I256);
            for (int chunk = 0; chunk < 2; chunk++) {
                ShortVector q0 = ByteVector.fromMemorySegment(B128, w, off + QS + 32 * chunk, VecMath.LE).reinterpretAsShorts();
                ShortVector q1 = ByteVector.fromMemorySegment(B128, w, off + QS + 32 * chunk + 16, VecMath.LE).reinterpretAsShorts();
                for (int m = 0, g = 4 * chunk; m < 4; m++, g++) {
                    // Bit fields taken apart on 16-bit lanes; the neighbour byte's bits are masked off.
                    ShortVector w0 = (ShortVector) q0.lanewise(VectorOperators.LSHR, 2 * m).reinterpretAsBytes().and((byte) 3)
                            .or(h0.lanewise(VectorOperators.LSHR, g).reinterpretAsBytes().and((byte) 1).reinterpretAsShorts().lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes())
                            .selectFrom(IqkTables.IQ3).convertShape(VectorOperators.B2S, S256, 0);
                    ShortVector w1 = (ShortVector) q1.lanewise(VectorOperators.LSHR, 2 * m).reinterpretAsBytes().and((byte) 3)
                            .or(h1.lanewise(VectorOperators.LSHR, g).reinterpretAsBytes().and((byte) 1).reinterpretAsShorts().lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes())
                            .selectFrom(IqkTables.IQ3).convertShape(VectorOperators.B2S, S256, 0);
                    IntVector p0 = w0.mul(ShortVector.fromArray(S256, aq, ao + 32 * g)).reinterpretAsInts();
                    IntVector p1 = w1.mul(ShortVector.fromArray(S256, aq, ao + 32 * g + 16)).reinterpretAsInts();
                    p0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    p1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    isum = isum.add(p0.mul(IntVector.broadcast(I256, sc[2 * g]))).add(p1.mul(IntVector.broadcast(I256, sc[2 * g + 1])));
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
            int signs = w.get(VecMath.I16, off + 4);
            long packed = w.get(KQuantDot.I64, off + SCALES_L);
            for (int s = 0; s < 16; s++) {
                int scale = 2 * (int) ((packed >>> (4 * s)) & 0x0F) + 1;
                float dl = d * (((signs >>> s) & 1) != 0 ? -scale : scale);
                int shift = 4 * ((extra >>> s) & 1);
                int g = s / 2;
                int e0 = 16 * (s % 2);
                int o = dstOff + i + 16 * s;
                for (int l = 0; l < 16; l += 8) {
                    IntVector q = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + QS + 32L * (g / 4) + e0 + l, VecMath.LE)).lanewise(VectorOperators.LSHR, 2 * (g % 4)).and(3)
                            .or(DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + QH + e0 + l, VecMath.LE)).lanewise(VectorOperators.LSHR, g).and(1).lanewise(VectorOperators.LSHL, 2));
                    DequantSteps.scaled(IqkDequant.levels(q, IqkTables.IQ3).add(shift), dl, dst, o + l);
                }
            }
        }
    }
}
