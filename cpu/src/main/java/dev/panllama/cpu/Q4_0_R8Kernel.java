package dev.panllama.cpu;

import dev.panllama.tensor.codec.Q4_0R8Codec;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.IntDot.B128;
import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * Q4_0_R8 weights (eight Q4_0 rows interleaved, ik_llama.cpp) against Q8_0 activations, all eight rows
 * at once. A block column (144 bytes: 8 f16 d, 128 bytes of nibbles) stores in byte 32l + 4k + i
 * (l, i &lt; 4) row k's element 4l + i (low nibble) and 4l + i + 16 (high nibble). 16 bytes hold 4 rows:
 * their nibbles times the 4 matching activations repeated 4 times (one 64-bit lane permute) pair-sum into
 * lane pairs (2k, 2k + 1), one int vector for rows 0-3 and one for rows 4-7. As in ggml the −8 is not
 * applied per weight: each row subtracts 8·Σa, the activations' block sum.
 *
 * <p>Ranges (q ≤ 15, |a| ≤ 127): a 16-bit lane sums 8 products ≤ 15,240 over the block, a pair
 * ≤ 30,480, so the narrow pair sum holds.
 */
final class Q4_0_R8Kernel implements WeightKernel {
    static final int BLOCK_BYTES = 144;
    private static final int QS = 16;

    @Override
    public ActivationFormat activation() { return ActivationFormat.Q8_0; }

    @Override
    public int rows() { return 8; }

    @Override
    public void dotTokens(MemorySegment w, long off, Activations a, float[] y, int yOff, int yStride) {
        for (int t = 0; t < a.tokens; t++) dotGroup(w, off, a, t, y, t * yStride + yOff);
    }

    private static void dotGroup(MemorySegment w, long off, Activations a, int t, float[] y, int o) {
        w.get(VecMath.FAULT_GUARD, off);   // see VecMath.FAULT_GUARD
        int nb = a.k / 32;
        int ab = t * nb;
        int ao = t * a.k;
        short[] aq = a.q;
        ShortVector low4 = ShortVector.broadcast(S256, (short) 0x0F);
        FloatVector acc0 = FloatVector.zero(F256);
        FloatVector acc1 = FloatVector.zero(F256);
        long blk = off;
        // Vector steps written in place, as in the K-quant kernels (see KQuantDot).
        for (int b = 0; b < nb; b++, blk += BLOCK_BYTES, ao += 32) {
            FloatVector d = VecMath.halfToFloat8(ShortVector.fromMemorySegment(ShortVector.SPECIES_128, w, blk, VecMath.LE)).mul(a.d[ab + b]);
            LongVector low = ShortVector.fromArray(S256, aq, ao).reinterpretAsLongs();         // elements 0..15
            LongVector high = ShortVector.fromArray(S256, aq, ao + 16).reinterpretAsLongs();   // elements 16..31
            ShortVector s0 = ShortVector.zero(S256);
            ShortVector s1 = ShortVector.zero(S256);
            for (int l = 0; l < 4; l++) {
                // Quad l of each half: elements 4l + i (low nibbles) and 16 + 4l + i (high), for the 4 rows of a vector.
                VectorShuffle<Long> quad = l == 0 ? IqkTables.QUAD0 : l == 1 ? IqkTables.QUAD1 : l == 2 ? IqkTables.QUAD2 : IqkTables.QUAD3;
                ShortVector lowAct = low.rearrange(quad).reinterpretAsShorts();
                ShortVector highAct = high.rearrange(quad).reinterpretAsShorts();
                ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, blk + QS + 32 * l, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, blk + QS + 32 * l + 16, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                s0 = s0.add(q0.and(low4).mul(lowAct)).add(q0.lanewise(VectorOperators.LSHR, 4).mul(highAct));
                s1 = s1.add(q1.and(low4).mul(lowAct)).add(q1.lanewise(VectorOperators.LSHR, 4).mul(highAct));
            }
            // Narrow pair sums (KQuantDot.pairSumNarrow, written out), less 4·Σa in each of a row's two lanes.
            int offset = 4 * a.sums[ab + b];
            IntVector p0 = s0.reinterpretAsInts();
            IntVector p1 = s1.reinterpretAsInts();
            p0 = p0.add(p0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).sub(offset);
            p1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16).sub(offset);
            acc0 = ((FloatVector) p0.convert(VectorOperators.I2F, 0)).fma(d.rearrange(IqkTables.ROW_PAIRS), acc0);
            acc1 = ((FloatVector) p1.convert(VectorOperators.I2F, 0)).fma(d.rearrange(IqkTables.ROW_PAIRS_HIGH), acc1);
        }
        for (int k = 0; k < 4; k++) {
            y[o + k] = acc0.lane(2 * k) + acc0.lane(2 * k + 1);
            y[o + 4 + k] = acc1.lane(2 * k) + acc1.lane(2 * k + 1);
        }
    }

    @Override
    public void dequantize(MemorySegment w, long off, float[] dst, int dstOff, int k) {
        for (int r = 0; r < 8; r++) Q4_0R8Codec.INSTANCE.dequantizeRow(w, off, r, dst, dstOff + r * k, k);
    }
}
