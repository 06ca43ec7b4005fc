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
 * IQ4_XS weights against Q8_K activations, ggml's vec_dot_iq4_xs_q8_K. A super-block (136 bytes: f16 d,
 * u16 scales_h, 4 bytes scales_l, 128 bytes of nibbles) has eight sub-blocks of 32: sub-block ib's
 * 16 bytes at 8 + 16·ib hold its elements 0..15 in the low nibbles and 16..31 in the high ones, each
 * selecting one of the 16 non-linear IQ4 levels (one byte shuffle); the 6-bit scale ls is nibble ib%2
 * of scales_l byte ib/2 plus bits 2·ib of scales_h as bits 4-5, and the values are d·(ls − 32)·level.
 *
 * <p>Ranges (|level| ≤ 127, |a| ≤ 127, |ls − 32| ≤ 32): two products ≤ 32,258 still fit a 16-bit lane
 * but four do not, so the pairs are summed with the full {@link IntDot#pairSum}; a sub-block adds
 * ≤ 4·16,129·32 = 2,064,512 to an int lane, a super-block ≤ 16,516,096 < 2^24.
 */
final class IQ4_XSRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 136;
    private static final int QS = 8;
    private static final IntVector NIBBLE_SHIFTS = IntVector.fromArray(I256, new int[]{0, 4, 8, 12, 16, 20, 24, 28}, 0);
    private static final IntVector PAIR_BIT_SHIFTS = IntVector.fromArray(I256, new int[]{0, 2, 4, 6, 8, 10, 12, 14}, 0);

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
        short[] aq = a.q;
        int[] sc = KQuantDot.scaleScratch();
        FloatVector acc = FloatVector.zero(F256);
        long off = rowOff;
        // Vector steps written in place, as in the other K-quant kernels (see KQuantDot).
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256) {
            int head = w.get(KQuantDot.I32, off);
            float d = Float.float16ToFloat((short) head) * a.d[ab + b];
            // The eight 6-bit scales minus 32, unpacked at once into the scratch.
            IntVector.broadcast(I256, w.get(KQuantDot.I32, off + 4)).lanewise(VectorOperators.LSHR, NIBBLE_SHIFTS).and(0x0F)
                    .or(IntVector.broadcast(I256, head >>> 16).lanewise(VectorOperators.LSHR, PAIR_BIT_SHIFTS).and(3).lanewise(VectorOperators.LSHL, 4))
                    .sub(32).intoArray(sc, 0);
            IntVector isum = IntVector.zero(I256);
            for (int ib = 0; ib < 8; ib++) {
                ByteVector q = ByteVector.fromMemorySegment(B128, w, off + QS + 16 * ib, VecMath.LE);
                ShortVector w0 = (ShortVector) q.and((byte) 0x0F).selectFrom(KQuantDot.IQ4_LEVELS).convertShape(VectorOperators.B2S, S256, 0);
                ShortVector w1 = (ShortVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                        .selectFrom(KQuantDot.IQ4_LEVELS).convertShape(VectorOperators.B2S, S256, 0);
                IntVector p = w0.mul(ShortVector.fromArray(S256, aq, ao + 32 * ib))
                        .add(w1.mul(ShortVector.fromArray(S256, aq, ao + 32 * ib + 16))).reinterpretAsInts();
                // Full pair sum (IntDot.pairSum, written out): two such lanes may exceed 16 bits.
                p = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p.lanewise(VectorOperators.ASHR, 16));
                isum = isum.add(p.mul(IntVector.broadcast(I256, sc[ib])));
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
            int head = w.get(KQuantDot.I32, off);
            float d = Float.float16ToFloat((short) head);
            int scalesHigh = head >>> 16;
            int scalesLow = w.get(KQuantDot.I32, off + 4);
            for (int ib = 0; ib < 8; ib++) {
                int ls = ((scalesLow >>> (4 * ib)) & 0x0F) | (((scalesHigh >>> (2 * ib)) & 3) << 4);
                float dl = d * (ls - 32);
                for (int l = 0; l < 16; l += 8) {
                    ByteVector q = ByteVector.fromMemorySegment(B64, w, off + QS + 16 * ib + l, VecMath.LE);
                    int o = dstOff + i + 32 * ib + l;
                    DequantSteps.scaled(DequantSteps.iq4Levels8(q), dl, dst, o);
                    DequantSteps.scaled(DequantSteps.iq4Levels8(KQuantDot.highNibbles(q)), dl, dst, o + 16);
                }
            }
        }
    }
}
