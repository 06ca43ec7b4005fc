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
 * 16 at qh[16g] their third bits at bit 4h + j. An index is a byte shuffle into the IQ3 grid, plus 4 in
 * the lanes of rows whose half (g, h) is shifted; as in IQ2_K_R4 the products with the 4 matching
 * activations pair-sum into lane pairs (2k, 2k + 1), scaled by each row's ±(2·nibble + 1).
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
                ShortVector qh = ByteVector.fromMemorySegment(B128, w, blk + QH + 16 * g, VecMath.LE).reinterpretAsShorts();
                for (int h = 0; h < 2; h++) {
                    // Scale is = 8g + 4h + k of row k: 2·(nibble g / 4 of scales_l[is % 32]) + 1, negated by bit g of scales_h[k + 4h].
                    int packed = (w.get(KQuantDot.I32, blk + SCALES_L + 8 * (g % 4) + 4 * h) >>> (4 * (g / 4))) & 0x0F0F0F0F;
                    int signs = (w.get(KQuantDot.I32, blk + SCALES_H + 4 * h) >>> g) & 0x01010101;
                    IntVector neg = IntVector.broadcast(I256, signs).lanewise(VectorOperators.LSHR, KQuantDot.PAIR_SHIFTS).and(1).neg();
                    IntVector scales = IntVector.broadcast(I256, packed).lanewise(VectorOperators.LSHR, KQuantDot.PAIR_SHIFTS).and(0xFF)
                            .lanewise(VectorOperators.LSHL, 1).add(1).lanewise(VectorOperators.XOR, neg).sub(neg);
                    int shifted = ((w.get(KQuantDot.I32, blk + EXTRA + 4 * h) >>> g) & 0x01010101) << 2;
                    ByteVector offsets = IntVector.broadcast(IqkTables.I128, shifted).reinterpretAsBytes().rearrange(IqkTables.ROW_BYTES);
                    ShortVector q = ByteVector.fromMemorySegment(B128, w, blk + QS + 32 * g + 16 * h, VecMath.LE).reinterpretAsShorts();
                    ShortVector s = ShortVector.zero(S256);
                    long e = ao + 2 * (32 * g + 16 * h);
                    for (int j = 0; j < 4; j++, e += 8) {
                        // Bit fields taken apart on 16-bit lanes; the neighbour byte's bits are masked off.
                        ShortVector levels = (ShortVector) q.lanewise(VectorOperators.LSHR, 2 * j).reinterpretAsBytes().and((byte) 3)
                                .or(qh.lanewise(VectorOperators.LSHR, 4 * h + j).reinterpretAsBytes().and((byte) 1).reinterpretAsShorts()
                                        .lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes())
                                .selectFrom(IqkTables.IQ3).add(offsets).convertShape(VectorOperators.B2S, S256, 0);
                        s = s.add(levels.mul(LongVector.broadcast(IqkTables.L256, act.get(IqkTables.ACTIVATION_QUAD, e)).reinterpretAsShorts()));
                    }
                    IntVector p = s.reinterpretAsInts();
                    p = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p.lanewise(VectorOperators.ASHR, 16));
                    isum = isum.add(p.mul(scales));
                }
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(d, acc);
        }
        for (int k = 0; k < 4; k++) y[o + k] = acc.lane(2 * k) + acc.lane(2 * k + 1);
    }

    @Override
    public void dequantize(MemorySegment w, long off, float[] dst, int dstOff, int k) {
        for (int r = 0; r < 4; r++) Iq3KR4Codec.INSTANCE.dequantizeRow(w, off, r, dst, dstOff + r * k, k);
    }
}
