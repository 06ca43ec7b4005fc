package dev.panllama.cpu;

import dev.panllama.tensor.codec.Iq2KR4Codec;
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
 * IQ2_K_R4 weights (four IQ2_K rows interleaved, ik_llama.cpp) against Q8_K activations, the four rows
 * at once. In a block column (304 bytes, see Iq2KR4Codec) byte 4k + i of the 16 at qs[32g + 16h] holds
 * row k's elements 16h + i + 4j of group g at bits 2j. Each 2-bit field is a byte shuffle into the IQ2
 * grid; times the 4 matching activations repeated 4 times (one 64-bit broadcast), the four fields add
 * up in 16-bit lanes and pair-sum into lane pairs (2k, 2k + 1), scaled by the rows' scales of that half.
 * Scales and the shifted halves' +5 per level are handled per block column as in {@link IQ4_K_R4Kernel}.
 *
 * <p>Ranges (|level| ≤ 31, |a| ≤ 127, |scale| ≤ 8): four products ≤ 15,748 per 16-bit lane, a pair
 * ≤ 31,496 for the narrow pair sum; a super-block adds ≤ 16·31,496·8 to an int lane.
 */
final class IQ2_K_R4Kernel implements WeightKernel {
    static final int BLOCK_BYTES = 304;
    private static final int EXTRA = 8;
    private static final int SCALES = 16;
    private static final int QS = 48;

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
            IntVector shifts = IntVector.zero(I256);
            for (int g = 0; g < 8; g++) {
                // Scales is = 8g .. 8g + 7 (lanes h·4 + k): nibble g / 4 of scales[8(g % 4) ..], minus 8.
                long packed = (w.get(KQuantDot.I64, blk + SCALES + 8 * (g % 4)) >>> (4 * (g / 4))) & 0x0F0F0F0F0F0F0F0FL;
                IntVector ls = IqkR4Steps.byteLanes(packed).sub(8);
                shifts = IqkR4Steps.scalesAndShifts(ls, extra, g, sums, so, sc, shifts);
            }
            shiftAcc = IqkR4Steps.addShifts(shifts, d, 5f, shiftAcc);
            IntVector isum = IntVector.zero(I256);
            for (int g = 0; g < 8; g++) {
                for (int h = 0; h < 2; h++) {
                    ShortVector q = ByteVector.fromMemorySegment(B128, w, blk + QS + 32 * g + 16 * h, VecMath.LE).reinterpretAsShorts();
                    // Elements 16h + i + 4j: activation quad j for bits 2j. Shifting 16-bit lanes moves each
                    // byte's 2-bit field down; the neighbour byte's bits are masked off.
                    LongVector quads = ShortVector.fromArray(S256, aq, ao + 32 * g + 16 * h).reinterpretAsLongs();
                    ShortVector s = ((ShortVector) q.reinterpretAsBytes().and((byte) 3).selectFrom(IqkTables.IQ2).convertShape(VectorOperators.B2S, S256, 0))
                            .mul(quads.rearrange(IqkTables.QUAD0).reinterpretAsShorts())
                            .add(((ShortVector) q.lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes().and((byte) 3).selectFrom(IqkTables.IQ2).convertShape(VectorOperators.B2S, S256, 0))
                                    .mul(quads.rearrange(IqkTables.QUAD1).reinterpretAsShorts()))
                            .add(((ShortVector) q.lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 3).selectFrom(IqkTables.IQ2).convertShape(VectorOperators.B2S, S256, 0))
                                    .mul(quads.rearrange(IqkTables.QUAD2).reinterpretAsShorts()))
                            .add(((ShortVector) q.lanewise(VectorOperators.LSHR, 6).reinterpretAsBytes().and((byte) 3).selectFrom(IqkTables.IQ2).convertShape(VectorOperators.B2S, S256, 0))
                                    .mul(quads.rearrange(IqkTables.QUAD3).reinterpretAsShorts()));
                    IntVector p = s.reinterpretAsInts();
                    p = p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    isum = isum.add(p.mul(IntVector.fromArray(I256, sc, 16 * g + 8 * h)));
                }
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(d, acc);
        }
        IqkR4Steps.store(acc, shiftAcc, y, o);
    }

    @Override
    public void dequantize(MemorySegment w, long off, float[] dst, int dstOff, int k) {
        for (int r = 0; r < 4; r++) Iq2KR4Codec.INSTANCE.dequantizeRow(w, off, r, dst, dstOff + r * k, k);
    }
}
