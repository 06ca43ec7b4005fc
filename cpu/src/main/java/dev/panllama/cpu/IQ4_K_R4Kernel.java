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
 * (high nibble), h = m % 2. Levels are byte shuffles into the IQ4 grid, plus 4 in the lanes of rows
 * whose half (g, h) uses the shifted grid (a byte vector built from the extra bits); multiplied by the
 * 4 matching activations repeated 4 times, their pair sums land row by row in lane pairs (2k, 2k + 1),
 * which are then scaled by each row's 6-bit scale of that half.
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
                    // Scale is = 8g + 4h + k of row k: nibble g / 4 of scales_l[is % 32], bits 2(g / 2) of scales_h[is % 16].
                    int packed = ((w.get(KQuantDot.I32, blk + SCALES_L + 8 * (g % 4) + 4 * h) >>> (4 * (g / 4))) & 0x0F0F0F0F)
                            | (((w.get(KQuantDot.I32, blk + SCALES_H + 8 * (g % 2) + 4 * h) >>> (2 * (g / 2))) & 0x03030303) << 4);
                    IntVector scales = IntVector.broadcast(I256, packed).lanewise(VectorOperators.LSHR, KQuantDot.PAIR_SHIFTS).and(0xFF).sub(32);
                    int shifted = ((w.get(KQuantDot.I32, blk + EXTRA + 4 * h) >>> g) & 0x01010101) << 2;
                    ByteVector offsets = IntVector.broadcast(IqkTables.I128, shifted).reinterpretAsBytes().rearrange(IqkTables.ROW_BYTES);
                    IntVector p = IntVector.zero(I256);
                    for (int half = 0; half < 2; half++) {
                        int m = h + 2 * half;
                        ByteVector q = ByteVector.fromMemorySegment(B128, w, blk + QS + 64 * g + 16 * m, VecMath.LE);
                        ShortVector lo = (ShortVector) q.and((byte) 0x0F).selectFrom(IqkTables.IQ4).add(offsets).convertShape(VectorOperators.B2S, S256, 0);
                        ShortVector hi = (ShortVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                                .selectFrom(IqkTables.IQ4).add(offsets).convertShape(VectorOperators.B2S, S256, 0);
                        long e = ao + 2 * (32 * g + 16 * h + 4 * half);
                        IntVector pm = lo.mul(LongVector.broadcast(IqkTables.L256, act.get(IqkTables.ACTIVATION_QUAD, e)).reinterpretAsShorts())
                                .add(hi.mul(LongVector.broadcast(IqkTables.L256, act.get(IqkTables.ACTIVATION_QUAD, e + 16)).reinterpretAsShorts()))
                                .reinterpretAsInts();
                        p = p.add(pm.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(pm.lanewise(VectorOperators.ASHR, 16)));
                    }
                    isum = isum.add(p.mul(scales));
                }
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(d, acc);
        }
        for (int k = 0; k < 4; k++) y[o + k] = acc.lane(2 * k) + acc.lane(2 * k + 1);
    }

    @Override
    public void dequantize(MemorySegment w, long off, float[] dst, int dstOff, int k) {
        for (int r = 0; r < 4; r++) Iq4KR4Codec.INSTANCE.dequantizeRow(w, off, r, dst, dstOff + r * k, k);
    }
}
