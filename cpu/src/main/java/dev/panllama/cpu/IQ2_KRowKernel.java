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
 * IQ2_K weights against Q8_K activations (ik_llama.cpp's vec_dot_iq2_k_q8_k). A super-block (76 bytes:
 * f16 d, u16 extra, 8 bytes of 4-bit scales, 64 bytes of 2-bit indices) has sixteen sub-blocks of 16
 * with scales nibble − 8. Group g's elements 0..15 and 16..31 are bits 2(g % 4) of the 16-byte runs at
 * qs[32(g / 4)] and qs[32(g / 4) + 16]; an index is one byte shuffle into the IQ2 grid. Bit s of extra
 * shifts sub-block s by +5, applied through the activations' sums per 16.
 *
 * <p>Ranges (|level| ≤ 31, |scale| ≤ 8): two products ≤ 7,874, narrow pair sums; a super-block adds
 * ≤ 16·7,874·8 to an int lane.
 */
final class IQ2_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 76;
    private static final int SCALES = 4;
    private static final int QS = 12;

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
            long packed = w.get(KQuantDot.I64, off + SCALES);
            float d = Float.float16ToFloat((short) head) * a.d[ab + b];
            int extra = head >>> 16;
            IntVector ls0 = IntVector.broadcast(I256, (int) packed).lanewise(VectorOperators.LSHR, IqkTables.NIBBLE_SHIFTS).and(0x0F).sub(8);
            IntVector ls1 = IntVector.broadcast(I256, (int) (packed >>> 32)).lanewise(VectorOperators.LSHR, IqkTables.NIBBLE_SHIFTS).and(0x0F).sub(8);
            ls0.intoArray(sc, 0);
            ls1.intoArray(sc, 8);
            IntVector shifts = ls0.mul(IntVector.broadcast(I256, extra).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1)).mul(IntVector.fromArray(I256, sums, so))
                    .add(ls1.mul(IntVector.broadcast(I256, extra >>> 8).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1)).mul(IntVector.fromArray(I256, sums, so + 8)));
            acc = ((FloatVector) shifts.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, 5 * d), acc);
            IntVector isum = IntVector.zero(I256);
            for (int chunk = 0; chunk < 2; chunk++) {
                ShortVector q0 = ByteVector.fromMemorySegment(B128, w, off + QS + 32 * chunk, VecMath.LE).reinterpretAsShorts();
                ShortVector q1 = ByteVector.fromMemorySegment(B128, w, off + QS + 32 * chunk + 16, VecMath.LE).reinterpretAsShorts();
                for (int m = 0, g = 4 * chunk; m < 4; m++, g++) {
                    // Shifting 16-bit lanes moves each byte's 2-bit field down; bits from the neighbour byte are masked off.
                    ShortVector w0 = (ShortVector) q0.lanewise(VectorOperators.LSHR, 2 * m).reinterpretAsBytes().and((byte) 3)
                            .selectFrom(IqkTables.IQ2).convertShape(VectorOperators.B2S, S256, 0);
                    ShortVector w1 = (ShortVector) q1.lanewise(VectorOperators.LSHR, 2 * m).reinterpretAsBytes().and((byte) 3)
                            .selectFrom(IqkTables.IQ2).convertShape(VectorOperators.B2S, S256, 0);
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
            long packed = w.get(KQuantDot.I64, off + SCALES);
            for (int s = 0; s < 16; s++) {
                float dl = d * ((int) ((packed >>> (4 * s)) & 0x0F) - 8);
                int shift = 5 * ((extra >>> s) & 1);
                int g = s / 2;
                long qs = off + QS + 32L * (g / 4) + 16 * (s % 2);
                int o = dstOff + i + 16 * s;
                for (int l = 0; l < 16; l += 8) {
                    IntVector q = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, qs + l, VecMath.LE)).lanewise(VectorOperators.LSHR, 2 * (g % 4)).and(3);
                    DequantSteps.scaled(IqkDequant.levels(q, IqkTables.IQ2).add(shift), dl, dst, o + l);
                }
            }
        }
    }
}
