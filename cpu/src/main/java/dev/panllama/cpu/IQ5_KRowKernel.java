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
 * IQ5_K weights against Q8_K activations (ik_llama.cpp's vec_dot_iq5_k_q8_k). A super-block (176 bytes:
 * f16 d, u16 extra, scales as IQ4_K's, 128 bytes of nibbles, 32 of fifth bits) has sixteen sub-blocks
 * of 16. In 64-value chunk c, the 32 bytes at qs[32c] hold elements e (low nibbles) and 32 + e (high
 * nibbles); their fifth bits are bits 2c and 2c + 1 of qh[e]. A 5-bit level is two byte shuffles (the
 * grid's halves 0..15 and 16..31) and a blend on the fifth bit. Bit s of extra shifts sub-block s by +2,
 * applied through the activations' sums per 16.
 *
 * <p>Ranges as IQ4_K's (|level| ≤ 126): narrow pair sums, a super-block ≤ 16,516,096 per int lane.
 */
final class IQ5_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 176;
    private static final int QS = 16;
    private static final int QH = 144;

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
            long low = w.get(KQuantDot.I64, off + 8);
            float d = Float.float16ToFloat((short) head) * a.d[ab + b];
            int extra = (int) (head >>> 16);
            int high = (int) (head >>> 32);
            IntVector ls0 = IntVector.broadcast(I256, (int) low).lanewise(VectorOperators.LSHR, IqkTables.NIBBLE_SHIFTS).and(0x0F)
                    .or(IntVector.broadcast(I256, high).lanewise(VectorOperators.LSHR, IqkTables.PAIR_BIT_SHIFTS).and(3).lanewise(VectorOperators.LSHL, 4))
                    .sub(32);
            IntVector ls1 = IntVector.broadcast(I256, (int) (low >>> 32)).lanewise(VectorOperators.LSHR, IqkTables.NIBBLE_SHIFTS).and(0x0F)
                    .or(IntVector.broadcast(I256, high >>> 16).lanewise(VectorOperators.LSHR, IqkTables.PAIR_BIT_SHIFTS).and(3).lanewise(VectorOperators.LSHL, 4))
                    .sub(32);
            ls0.intoArray(sc, 0);
            ls1.intoArray(sc, 8);
            IntVector shifts = ls0.mul(IntVector.broadcast(I256, extra).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1)).mul(IntVector.fromArray(I256, sums, so))
                    .add(ls1.mul(IntVector.broadcast(I256, extra >>> 8).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1)).mul(IntVector.fromArray(I256, sums, so + 8)));
            acc = ((FloatVector) shifts.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, 2 * d), acc);
            IntVector isum = IntVector.zero(I256);
            for (int half = 0; half < 2; half++) {
                ByteVector qh = ByteVector.fromMemorySegment(B128, w, off + QH + 16 * half, VecMath.LE);
                for (int c = 0; c < 4; c++) {
                    ByteVector q = ByteVector.fromMemorySegment(B128, w, off + QS + 32 * c + 16 * half, VecMath.LE);
                    ByteVector lo = q.and((byte) 0x0F);
                    ByteVector hi = q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
                    ShortVector w0 = (ShortVector) lo.selectFrom(IqkTables.IQ5_HIGH)
                            .blend(lo.selectFrom(IqkTables.IQ5_LOW), qh.and((byte) (1 << (2 * c))).compare(VectorOperators.EQ, (byte) 0))
                            .convertShape(VectorOperators.B2S, S256, 0);
                    ShortVector w1 = (ShortVector) hi.selectFrom(IqkTables.IQ5_HIGH)
                            .blend(hi.selectFrom(IqkTables.IQ5_LOW), qh.and((byte) (2 << (2 * c))).compare(VectorOperators.EQ, (byte) 0))
                            .convertShape(VectorOperators.B2S, S256, 0);
                    // Elements 64c + 16·half (sub-block 4c + half) and 64c + 32 + 16·half (4c + 2 + half).
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
            int high = w.get(KQuantDot.I32, off + 4);
            long low = w.get(KQuantDot.I64, off + 8);
            for (int s = 0; s < 16; s++) {
                int ls = (int) ((low >>> (4 * s)) & 0x0F) | (((high >>> (2 * s)) & 3) << 4);
                float dl = d * (ls - 32);
                int shift = 2 * ((extra >>> s) & 1);
                int c = s / 4;
                int nibble = 4 * ((s / 2) % 2);
                int e0 = 16 * (s % 2);
                int o = dstOff + i + 16 * s;
                for (int l = 0; l < 16; l += 8) {
                    IntVector q = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + QS + 32L * c + e0 + l, VecMath.LE)).lanewise(VectorOperators.LSHR, nibble).and(0x0F)
                            .or(DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + QH + e0 + l, VecMath.LE)).lanewise(VectorOperators.LSHR, 2 * c + nibble / 4).and(1).lanewise(VectorOperators.LSHL, 4));
                    DequantSteps.scaled(IqkDequant.levels(q, IqkTables.IQ5_LOW, IqkTables.IQ5_HIGH).add(shift), dl, dst, o + l);
                }
            }
        }
    }
}
