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
 * IQ4_K weights against Q8_K activations (ik_llama.cpp's vec_dot_iq4_k_q8_k). A super-block (144 bytes:
 * f16 d, u16 extra, 4 bytes of scale high bits, 8 of low nibbles, 128 bytes of nibbles) has sixteen
 * sub-blocks of 16 with 6-bit scales ls − 32; the 16 bytes of group g hold sub-block 2g in their low
 * nibbles and 2g + 1 in their high ones, each nibble a level of the IQ4 grid (one byte shuffle). Bit s
 * of extra shifts sub-block s's levels by +4: that adds 4·(ls_s − 32)·bsum_s, taken from the
 * activations' sums per 16 outside the per-weight loop.
 *
 * <p>Ranges (|level| ≤ 127, |a| ≤ 127, |ls − 32| ≤ 32): two products ≤ 32,258 fit the narrow pair sum;
 * a sub-block adds ≤ 32,258·32 to an int lane, a super-block ≤ 16,516,096 < 2^24, exact in float.
 */
final class IQ4_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 144;
    private static final int QS = 16;

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
            long head = w.get(KQuantDot.I64, off);               // d, extra, scales_h
            long low = w.get(KQuantDot.I64, off + 8);             // scales_l
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
            // The shifted sub-blocks' +4 per level, through the sums per 16.
            IntVector shifts = ls0.mul(IntVector.broadcast(I256, extra).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1)).mul(IntVector.fromArray(I256, sums, so))
                    .add(ls1.mul(IntVector.broadcast(I256, extra >>> 8).lanewise(VectorOperators.LSHR, IqkTables.IOTA).and(1)).mul(IntVector.fromArray(I256, sums, so + 8)));
            acc = ((FloatVector) shifts.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, 4 * d), acc);
            IntVector isum = IntVector.zero(I256);
            for (int g = 0; g < 8; g++) {
                ByteVector q = ByteVector.fromMemorySegment(B128, w, off + QS + 16 * g, VecMath.LE);
                ShortVector w0 = (ShortVector) q.and((byte) 0x0F).selectFrom(IqkTables.IQ4).convertShape(VectorOperators.B2S, S256, 0);
                ShortVector w1 = (ShortVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                        .selectFrom(IqkTables.IQ4).convertShape(VectorOperators.B2S, S256, 0);
                IntVector p0 = w0.mul(ShortVector.fromArray(S256, aq, ao + 32 * g)).reinterpretAsInts();
                IntVector p1 = w1.mul(ShortVector.fromArray(S256, aq, ao + 32 * g + 16)).reinterpretAsInts();
                // Narrow pair sums (KQuantDot.pairSumNarrow, written out), times the scales.
                p0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                p1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                isum = isum.add(p0.mul(IntVector.broadcast(I256, sc[2 * g]))).add(p1.mul(IntVector.broadcast(I256, sc[2 * g + 1])));
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
                int shift = 4 * ((extra >>> s) & 1);
                long qs = off + QS + 16L * (s / 2);
                int o = dstOff + i + 16 * s;
                for (int l = 0; l < 16; l += 8) {
                    ByteVector q = ByteVector.fromMemorySegment(B64, w, qs + l, VecMath.LE);
                    if (s % 2 == 1) q = KQuantDot.highNibbles(q);
                    DequantSteps.scaled(DequantSteps.iq4Levels8(q).add(shift), dl, dst, o + l);
                }
            }
        }
    }
}
