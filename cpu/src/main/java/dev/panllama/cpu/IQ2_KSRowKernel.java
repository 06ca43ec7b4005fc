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
 * IQ2_KS weights against Q8_K activations (ik_llama.cpp's vec_dot_iq2_ks_q8_k). A row is an f16 d and
 * super-blocks of 70 bytes (u16 extra, 4 bytes of scale nibbles, 64 bytes of 2-bit indices); each of
 * the eight sub-blocks of 32 has the 5-bit scale nibble | (bit 8 + g of extra) << 4, minus 16. Sub-block
 * g's elements 0..15 and 16..31 are bits 2(g % 4) of the 16-byte runs at qs[32(g / 4)] and
 * qs[32(g / 4) + 16]; an index is one byte shuffle into the IQ2 grid. Bit g of extra shifts sub-block g
 * by +5, applied through the activations' sums per 16 (two per sub-block).
 *
 * <p>Ranges (|level| ≤ 31, |scale| ≤ 16): two products ≤ 7,874 fit a 16-bit lane, four ≤ 15,748 the
 * narrow pair sum; a super-block adds ≤ 8·15,748·16 to an int lane.
 */
final class IQ2_KSRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 70;
    private static final int ROW_META = 2;
    private static final int SCALES = 2;
    private static final int QS = 6;

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
        float rowScale = Float.float16ToFloat(w.get(VecMath.I16, rowOff));
        FloatVector acc = FloatVector.zero(F256);
        long off = rowOff + ROW_META;
        // Vector steps written in place, as in the K-quant kernels (see KQuantDot).
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256, so += 16) {
            long head = w.get(KQuantDot.I64, off);               // extra, 4 scale bytes, 2 bytes of qs
            float d = rowScale * a.d[ab + b];
            int extra = (int) head & 0xFFFF;
            IntVector ls = IntVector.broadcast(I256, (int) (head >>> 16)).lanewise(VectorOperators.LSHR, IqkTables.NIBBLE_SHIFTS).and(0x0F)
                    .or(IntVector.broadcast(I256, extra >>> 8).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1).lanewise(VectorOperators.LSHL, 4))
                    .sub(16);
            ls.intoArray(sc, 0);
            IntVector shifted = ls.mul(IntVector.broadcast(I256, extra).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1));
            IntVector shifts = shifted.rearrange(IqkTables.PAIRS_LOW).mul(IntVector.fromArray(I256, sums, so))
                    .add(shifted.rearrange(IqkTables.PAIRS_HIGH).mul(IntVector.fromArray(I256, sums, so + 8)));
            acc = ((FloatVector) shifts.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, 5 * d), acc);
            IntVector isum = IntVector.zero(I256);
            for (int chunk = 0; chunk < 2; chunk++) {
                ShortVector q0 = ByteVector.fromMemorySegment(B128, w, off + QS + 32 * chunk, VecMath.LE).reinterpretAsShorts();
                ShortVector q1 = ByteVector.fromMemorySegment(B128, w, off + QS + 32 * chunk + 16, VecMath.LE).reinterpretAsShorts();
                for (int m = 0, g = 4 * chunk; m < 4; m++, g++) {
                    ShortVector w0 = (ShortVector) q0.lanewise(VectorOperators.LSHR, 2 * m).reinterpretAsBytes().and((byte) 3)
                            .selectFrom(IqkTables.IQ2).convertShape(VectorOperators.B2S, S256, 0);
                    ShortVector w1 = (ShortVector) q1.lanewise(VectorOperators.LSHR, 2 * m).reinterpretAsBytes().and((byte) 3)
                            .selectFrom(IqkTables.IQ2).convertShape(VectorOperators.B2S, S256, 0);
                    IntVector p = w0.mul(ShortVector.fromArray(S256, aq, ao + 32 * g))
                            .add(w1.mul(ShortVector.fromArray(S256, aq, ao + 32 * g + 16))).reinterpretAsInts();
                    p = p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    isum = isum.add(p.mul(IntVector.broadcast(I256, sc[g])));
                }
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
        }
        return ((acc.lane(0) + acc.lane(4)) + (acc.lane(2) + acc.lane(6))) + ((acc.lane(1) + acc.lane(5)) + (acc.lane(3) + acc.lane(7)));
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        float d = KQuantDot.half(w, rowOff);
        long off = rowOff + ROW_META;
        for (int i = 0; i < k; i += 256, off += BLOCK_BYTES) {
            int extra = w.get(VecMath.I16, off);
            int packed = w.get(KQuantDot.I32, off + SCALES);
            for (int g = 0; g < 8; g++) {
                float dl = d * ((((packed >>> (4 * g)) & 0x0F) | (((extra >>> (8 + g)) & 1) << 4)) - 16);
                int shift = 5 * ((extra >>> g) & 1);
                long qs = off + QS + 32L * (g / 4);
                int o = dstOff + i + 32 * g;
                for (int l = 0; l < 32; l += 8) {
                    IntVector q = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, qs + l, VecMath.LE)).lanewise(VectorOperators.LSHR, 2 * (g % 4)).and(3);
                    DequantSteps.scaled(IqkDequant.levels(q, IqkTables.IQ2).add(shift), dl, dst, o + l);
                }
            }
        }
    }
}
