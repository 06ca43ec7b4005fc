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
 * IQ4_KS weights against Q8_K activations (ik_llama.cpp's vec_dot_iq4_ks_q8_k). A row is a float d and
 * super-blocks of 136 bytes (8 scale bytes, 128 bytes of nibbles, as IQ4_XS's); sub-block g's scale byte
 * gives the multiplier (byte & 254) − 127 and, in bit 0, a +4 shift of its IQ4 levels, applied through
 * the activations' sums per 16 (two per sub-block). The 16 bytes of sub-block g hold its elements 0..15
 * in their low nibbles and 16..31 in their high ones; a level is one byte shuffle.
 *
 * <p>Ranges (|level| ≤ 127, |a| ≤ 127, |scale| ≤ 127): two products ≤ 32,258 fit a 16-bit lane, four do
 * not, so the full pair sum; a super-block adds ≤ 8·64,516·127 to an int lane, exact in int.
 */
final class IQ4_KSRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 136;
    private static final int ROW_META = 4;
    private static final int QS = 8;

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
        float rowScale = w.get(VecMath.F32, rowOff);
        FloatVector acc = FloatVector.zero(F256);
        long off = rowOff + ROW_META;
        // Vector steps written in place, as in the K-quant kernels (see KQuantDot).
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256, so += 16) {
            float d = rowScale * a.d[ab + b];
            IntVector raw = (IntVector) ByteVector.fromMemorySegment(B64, w, off, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 0);
            IntVector ls = raw.and(254).sub(127);
            ls.intoArray(sc, 0);
            IntVector shifted = ls.mul(raw.and(1));
            IntVector shifts = shifted.rearrange(IqkTables.PAIRS_LOW).mul(IntVector.fromArray(I256, sums, so))
                    .add(shifted.rearrange(IqkTables.PAIRS_HIGH).mul(IntVector.fromArray(I256, sums, so + 8)));
            acc = ((FloatVector) shifts.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, 4 * d), acc);
            IntVector isum = IntVector.zero(I256);
            for (int g = 0; g < 8; g++) {
                ByteVector q = ByteVector.fromMemorySegment(B128, w, off + QS + 16 * g, VecMath.LE);
                ShortVector w0 = (ShortVector) q.and((byte) 0x0F).selectFrom(IqkTables.IQ4).convertShape(VectorOperators.B2S, S256, 0);
                ShortVector w1 = (ShortVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                        .selectFrom(IqkTables.IQ4).convertShape(VectorOperators.B2S, S256, 0);
                IntVector p = w0.mul(ShortVector.fromArray(S256, aq, ao + 32 * g))
                        .add(w1.mul(ShortVector.fromArray(S256, aq, ao + 32 * g + 16))).reinterpretAsInts();
                // Full pair sum (IntDot.pairSum, written out): two such lanes may exceed 16 bits.
                p = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p.lanewise(VectorOperators.ASHR, 16));
                isum = isum.add(p.mul(IntVector.broadcast(I256, sc[g])));
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
        }
        return ((acc.lane(0) + acc.lane(4)) + (acc.lane(2) + acc.lane(6))) + ((acc.lane(1) + acc.lane(5)) + (acc.lane(3) + acc.lane(7)));
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        float d = w.get(VecMath.F32, rowOff);
        long off = rowOff + ROW_META;
        for (int i = 0; i < k; i += 256, off += BLOCK_BYTES) {
            for (int g = 0; g < 8; g++) {
                int scale = w.get(ValueLayout.JAVA_BYTE, off + g) & 0xFF;
                float dl = d * ((scale & 254) - 127);
                int shift = 4 * (scale & 1);
                int o = dstOff + i + 32 * g;
                for (int l = 0; l < 16; l += 8) {
                    ByteVector q = ByteVector.fromMemorySegment(B64, w, off + QS + 16L * g + l, VecMath.LE);
                    DequantSteps.scaled(DequantSteps.iq4Levels8(q).add(shift), dl, dst, o + l);
                    DequantSteps.scaled(DequantSteps.iq4Levels8(KQuantDot.highNibbles(q)).add(shift), dl, dst, o + l + 16);
                }
            }
        }
    }
}
