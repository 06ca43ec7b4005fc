package dev.panllama.cpu;

import dev.panllama.tensor.codec.Iq3KR4Codec;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.IntDot.B128;
import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.I256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * IQ3_K_R4 weights (four IQ3_K rows interleaved, ik_llama.cpp) against Q8_K activations, the four rows
 * at once. In a block column (440 bytes, see Iq3KR4Codec) byte 4k + i of the 16 at qs[32g + 16h] holds
 * the low two index bits of row k's elements 16h + i + 4j of group g at bits 2j, and byte 4k + i of the
 * 16 at qh[16g] their third bits at bit 4h + j. An index is a byte shuffle into the IQ3 grid; as in
 * {@link IQ2_K_R4Kernel} the products with the 4 matching activations pair-sum into lane pairs
 * (2k, 2k + 1), scaled by the rows' ±(2·nibble + 1); scales and the shifted halves' +4 per level are
 * handled per block column as in {@link IQ4_K_R4Kernel}.
 *
 * <p>Ranges (|level| ≤ 63, |a| ≤ 127, |scale| ≤ 31): four products ≤ 32,004 per 16-bit lane, the full
 * pair sum; a super-block adds ≤ 16·64,008·31 to an int lane.
 */
final class IQ3_K_R4Kernel implements WeightKernel {
    static final int BLOCK_BYTES = 440;
    private static final int EXTRA = 8;
    private static final int SCALES_H = 16;
    private static final int SCALES_L = 24;
    private static final int QS = 56;
    private static final int QH = 312;

    @Override
    public ActivationFormat activation() { return ActivationFormat.Q8_K; }

    @Override
    public int rows() { return 4; }

    @Override
    public void dotTokens(MemorySegment w, long off, Activations a, float[] y, int yOff, int yStride) {
        int[] scales = IqkTables.groupScales();
        for (int t = 0; t < a.tokens; t++) dotGroup(w, off, a, scales, t, y, t * yStride + yOff);
    }

    private static void dotGroup(MemorySegment w, long off, Activations a, int[] sc, int t, float[] y, int o) {
        w.get(VecMath.FAULT_GUARD, off);   // see VecMath.FAULT_GUARD
        int nb = a.k / 256;
        int ab = t * nb;
        int so = t * (a.k / 16);
        int[] sums = a.sums;
        int ao = t * a.k;
        short[] aq = a.q;
        FloatVector acc = FloatVector.zero(F256);
        FloatVector shiftAcc = FloatVector.zero(F256);
        long blk = off;
        // Vector steps written in place, as in the K-quant kernels (see KQuantDot).
        for (int b = 0; b < nb; b++, blk += BLOCK_BYTES, ao += 256, so += 16) {
            FloatVector d = IqkR4Steps.rowScales(w, blk, a.d[ab + b]);
            long extra = w.get(KQuantDot.I64, blk + EXTRA);
            long signs = w.get(KQuantDot.I64, blk + SCALES_H);
            IntVector shifts = IntVector.zero(I256);
            for (int g = 0; g < 8; g++) {
                // Scales is = 8g .. 8g + 7 (lanes h·4 + k): 2·(nibble g / 4 of scales_l[8(g % 4) ..]) + 1, negated by
                // bit g of scales_h[h·4 + k]; the sign applied as (v ^ m) − m with m = 0 or −1.
                long packed = (w.get(KQuantDot.I64, blk + SCALES_L + 8 * (g % 4)) >>> (4 * (g / 4))) & 0x0F0F0F0F0F0F0F0FL;
                long signBits = (signs >>> g) & IqkTables.BYTE_LOW_BITS;
                IntVector neg = IqkR4Steps.byteLanes(signBits).neg();
                IntVector ls = IqkR4Steps.byteLanes(packed).lanewise(VectorOperators.LSHL, 1).add(1)
                        .lanewise(VectorOperators.XOR, neg).sub(neg);
                shifts = IqkR4Steps.scalesAndShifts(ls, extra, g, sums, so, sc, shifts);
            }
            shiftAcc = IqkR4Steps.addShifts(shifts, d, 4f, shiftAcc);
            IntVector isum = IntVector.zero(I256);
            for (int g = 0; g < 8; g++) {
                ShortVector qh = ByteVector.fromMemorySegment(B128, w, blk + QH + 16 * g, VecMath.LE).reinterpretAsShorts();
                for (int h = 0; h < 2; h++) {
                    ShortVector q = ByteVector.fromMemorySegment(B128, w, blk + QS + 32 * g + 16 * h, VecMath.LE).reinterpretAsShorts();
                    // Third bits of elements 16h + i + 4j at bit 4h + j of qh, moved to bit 2 of each byte.
                    ShortVector third = qh.lanewise(VectorOperators.LSHR, 4 * h);
                    // Elements 16h + i + 4j: activation quad j for bits 2j. Bit fields are taken apart on 16-bit
                    // lanes; the neighbour byte's bits are masked off.
                    LongVector quads = ShortVector.fromArray(S256, aq, ao + 32 * g + 16 * h).reinterpretAsLongs();
                    ShortVector s = ((ShortVector) q.reinterpretAsBytes().and((byte) 3)
                            .or(third.lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 4))
                            .selectFrom(IqkTables.IQ3).convertShape(VectorOperators.B2S, S256, 0))
                            .mul(quads.rearrange(IqkTables.QUAD0).reinterpretAsShorts())
                            .add(((ShortVector) q.lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes().and((byte) 3)
                                    .or(third.lanewise(VectorOperators.LSHL, 1).reinterpretAsBytes().and((byte) 4))
                                    .selectFrom(IqkTables.IQ3).convertShape(VectorOperators.B2S, S256, 0))
                                    .mul(quads.rearrange(IqkTables.QUAD1).reinterpretAsShorts()))
                            .add(((ShortVector) q.lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 3)
                                    .or(third.reinterpretAsBytes().and((byte) 4))
                                    .selectFrom(IqkTables.IQ3).convertShape(VectorOperators.B2S, S256, 0))
                                    .mul(quads.rearrange(IqkTables.QUAD2).reinterpretAsShorts()))
                            .add(((ShortVector) q.lanewise(VectorOperators.LSHR, 6).reinterpretAsBytes().and((byte) 3)
                                    .or(third.lanewise(VectorOperators.LSHR, 1).reinterpretAsBytes().and((byte) 4))
                                    .selectFrom(IqkTables.IQ3).convertShape(VectorOperators.B2S, S256, 0))
                                    .mul(quads.rearrange(IqkTables.QUAD3).reinterpretAsShorts()));
                    IntVector p = s.reinterpretAsInts();
                    p = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p.lanewise(VectorOperators.ASHR, 16));
                    isum = isum.add(p.mul(IntVector.fromArray(I256, sc, 16 * g + 8 * h)));
                }
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(d, acc);
        }
        IqkR4Steps.store(acc, shiftAcc, y, o);
    }

    @Override
    public void dequantize(MemorySegment w, long off, float[] dst, int dstOff, int k) {
        for (int r = 0; r < 4; r++) Iq3KR4Codec.INSTANCE.dequantizeRow(w, off, r, dst, dstOff + r * k, k);
    }
}
