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
 * grid, plus 5 in the lanes of rows whose half (g, h) is shifted; times the 4 matching activations
 * repeated 4 times, the four fields add up in 16-bit lanes and pair-sum into lane pairs (2k, 2k + 1),
 * scaled by each row's 4-bit scale − 8 of that half.
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
        MemorySegment act = MemorySegment.ofArray(a.q);
        for (int t = 0; t < a.tokens; t++) dotGroup(w, off, a, act, t, y, t * yStride + yOff);
    }

    private static void dotGroup(MemorySegment w, long off, Activations a, MemorySegment act, int t, float[] y, int o) {
        int nb = a.k / 256;
        int ab = t * nb;
        long ao = 2L * t * a.k;
        FloatVector acc = FloatVector.zero(F256);
        long blk = off;
        // Vector steps written in place, as in the K-quant kernels (see KQuantDot).
        for (int b = 0; b < nb; b++, blk += BLOCK_BYTES, ao += 512) {
            FloatVector d = VecMath.halfToFloat(w, blk).mul(a.d[ab + b]).rearrange(IqkTables.ROW_PAIRS);
            IntVector isum = IntVector.zero(I256);
            for (int g = 0; g < 8; g++) {
                for (int h = 0; h < 2; h++) {
                    // Scale is = 8g + 4h + k of row k: nibble g / 4 of scales[is % 32].
                    int packed = (w.get(KQuantDot.I32, blk + SCALES + 8 * (g % 4) + 4 * h) >>> (4 * (g / 4))) & 0x0F0F0F0F;
                    IntVector scales = IntVector.broadcast(I256, packed).lanewise(VectorOperators.LSHR, KQuantDot.PAIR_SHIFTS).and(0xFF).sub(8);
                    int shifted = ((w.get(KQuantDot.I32, blk + EXTRA + 4 * h) >>> g) & 0x01010101) * 5;
                    ByteVector offsets = IntVector.broadcast(IqkTables.I128, shifted).reinterpretAsBytes().rearrange(IqkTables.ROW_BYTES);
                    ShortVector q = ByteVector.fromMemorySegment(B128, w, blk + QS + 32 * g + 16 * h, VecMath.LE).reinterpretAsShorts();
                    ShortVector s = ShortVector.zero(S256);
                    long e = ao + 2 * (32 * g + 16 * h);
                    for (int j = 0; j < 4; j++, e += 8) {
                        // Shifting 16-bit lanes moves each byte's 2-bit field down; the neighbour byte's bits are masked off.
                        ShortVector levels = (ShortVector) q.lanewise(VectorOperators.LSHR, 2 * j).reinterpretAsBytes().and((byte) 3)
                                .selectFrom(IqkTables.IQ2).add(offsets).convertShape(VectorOperators.B2S, S256, 0);
                        s = s.add(levels.mul(LongVector.broadcast(IqkTables.L256, act.get(IqkTables.ACTIVATION_QUAD, e)).reinterpretAsShorts()));
                    }
                    IntVector p = s.reinterpretAsInts();
                    p = p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                    isum = isum.add(p.mul(scales));
                }
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(d, acc);
        }
        for (int k = 0; k < 4; k++) y[o + k] = acc.lane(2 * k) + acc.lane(2 * k + 1);
    }

    @Override
    public void dequantize(MemorySegment w, long off, float[] dst, int dstOff, int k) {
        for (int r = 0; r < 4; r++) Iq2KR4Codec.INSTANCE.dequantizeRow(w, off, r, dst, dstOff + r * k, k);
    }
}
