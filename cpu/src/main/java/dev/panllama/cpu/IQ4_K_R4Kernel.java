package dev.panllama.cpu;

import dev.panllama.tensor.codec.Iq4KR4Codec;
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
 * IQ4_K_R4 weights (four IQ4_K rows interleaved, ik_llama.cpp) against Q8_K activations, the four rows
 * at once. In a block column (576 bytes, see Iq4KR4Codec) the 64 bytes of 32-value group g are four
 * runs m of 16; byte 4k + i of run m holds row k's elements 16h + 4(m / 2) + i (low nibble) and that + 8
 * (high nibble), h = m % 2. Levels are byte shuffles into the IQ4 grid; multiplied by the 4 matching
 * activations repeated 4 times (one 64-bit broadcast), their pair sums land row by row in lane pairs
 * (2k, 2k + 1), scaled by the rows' 6-bit scales of that half.
 *
 * <p>Per block column the 64 scales (index is = 8g + 4h + k) are unpacked 8 at a time into a per-thread
 * array, each twice, so that a half's scales are one load; the same pass takes the shifted halves'
 * +4 per level through the activations' sums per 16, in lanes (h, k) of a separate accumulator.
 *
 * <p>Ranges (|level| ≤ 127, |a| ≤ 127, |scale| ≤ 32): two products ≤ 32,258 per 16-bit lane, the full
 * pair sum; a super-block adds ≤ 16·2·64,516·32 to an int lane, exact in int.
 */
final class IQ4_K_R4Kernel implements WeightKernel {
    static final int BLOCK_BYTES = 576;
    private static final int EXTRA = 8;
    private static final int SCALES_H = 16;
    private static final int SCALES_L = 32;
    private static final int QS = 64;

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
                // Scales is = 8g .. 8g + 7 (lanes h·4 + k): nibble g / 4 of scales_l[8(g % 4) ..], bits 2(g / 2) of scales_h[8(g % 2) ..].
                long packed = ((w.get(KQuantDot.I64, blk + SCALES_L + 8 * (g % 4)) >>> (4 * (g / 4))) & 0x0F0F0F0F0F0F0F0FL)
                        | (((w.get(KQuantDot.I64, blk + SCALES_H + 8 * (g % 2)) >>> (2 * (g / 2))) & 0x0303030303030303L) << 4);
                IntVector ls = IqkR4Steps.byteLanes(packed).sub(32);
                shifts = IqkR4Steps.scalesAndShifts(ls, extra, g, sums, so, sc, shifts);
            }
            shiftAcc = IqkR4Steps.addShifts(shifts, d, 4f, shiftAcc);
            IntVector isum = IntVector.zero(I256);
            for (int g = 0; g < 8; g++) {
                for (int h = 0; h < 2; h++) {
                    // Runs h and h + 2 hold elements 16h + i (+ 8) and 16h + 4 + i (+ 8): activation quads 0, 2 and 1, 3.
                    LongVector quads = ShortVector.fromArray(S256, aq, ao + 32 * g + 16 * h).reinterpretAsLongs();
                    ByteVector q0 = ByteVector.fromMemorySegment(B128, w, blk + QS + 64 * g + 16 * h, VecMath.LE);
                    ByteVector q1 = ByteVector.fromMemorySegment(B128, w, blk + QS + 64 * g + 16 * h + 32, VecMath.LE);
                    IntVector p0 = ((ShortVector) q0.and((byte) 0x0F).selectFrom(IqkTables.IQ4).convertShape(VectorOperators.B2S, S256, 0))
                            .mul(quads.rearrange(IqkTables.QUAD0).reinterpretAsShorts())
                            .add(((ShortVector) q0.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                                    .selectFrom(IqkTables.IQ4).convertShape(VectorOperators.B2S, S256, 0))
                                    .mul(quads.rearrange(IqkTables.QUAD2).reinterpretAsShorts()))
                            .reinterpretAsInts();
                    IntVector p1 = ((ShortVector) q1.and((byte) 0x0F).selectFrom(IqkTables.IQ4).convertShape(VectorOperators.B2S, S256, 0))
                            .mul(quads.rearrange(IqkTables.QUAD1).reinterpretAsShorts())
                            .add(((ShortVector) q1.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                                    .selectFrom(IqkTables.IQ4).convertShape(VectorOperators.B2S, S256, 0))
                                    .mul(quads.rearrange(IqkTables.QUAD3).reinterpretAsShorts()))
                            .reinterpretAsInts();
                    // Full pair sums (IntDot.pairSum, written out): two such lanes may exceed 16 bits.
                    IntVector p = p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p0.lanewise(VectorOperators.ASHR, 16))
                            .add(p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(p1.lanewise(VectorOperators.ASHR, 16));
                    isum = isum.add(p.mul(IntVector.fromArray(I256, sc, 16 * g + 8 * h)));
                }
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(d, acc);
        }
        IqkR4Steps.store(acc, shiftAcc, y, o);
    }

    @Override
    public void dequantize(MemorySegment w, long off, float[] dst, int dstOff, int k) {
        for (int r = 0; r < 4; r++) Iq4KR4Codec.INSTANCE.dequantizeRow(w, off, r, dst, dstOff + r * k, k);
    }
}
