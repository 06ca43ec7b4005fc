package dev.panllama.cpu;

import dev.panllama.tensor.codec.Q8_0R8Codec;
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
import static dev.panllama.cpu.IntDot.I256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * Q8_0_R8 weights (eight Q8_0 rows interleaved, ik_llama.cpp) against Q8_0 activations, all eight rows
 * at once. A block column (272 bytes: 8 f16 d, 256 int8) stores row k's elements 4l + i at byte
 * 32l + 4k + i and 16 + 4l + i at 128 + 32l + 4k + i (l, i &lt; 4). So 16 bytes hold 4 elements of 4 rows:
 * multiplied by those 4 activations repeated 4 times (one 64-bit lane permute), their pair sums land row by
 * row in lane pairs (2k, 2k + 1) of an int vector, one vector for rows 0-3 and one for rows 4-7.
 *
 * <p>Ranges (|q|, |a| ≤ 127): two products ≤ 32,258 per 16-bit lane, the full pair sum; a block adds
 * ≤ 4·64,516 to an int lane.
 */
final class Q8_0_R8Kernel implements WeightKernel {
    static final int BLOCK_BYTES = 272;
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
        FloatVector acc0 = FloatVector.zero(F256);
        FloatVector acc1 = FloatVector.zero(F256);
        long blk = off;
        // Vector steps written in place, as in the K-quant kernels (see KQuantDot).
        for (int b = 0; b < nb; b++, blk += BLOCK_BYTES, ao += 32) {
            FloatVector d = VecMath.halfToFloat8(ShortVector.fromMemorySegment(ShortVector.SPECIES_128, w, blk, VecMath.LE)).mul(a.d[ab + b]);
            LongVector low = ShortVector.fromArray(S256, aq, ao).reinterpretAsLongs();         // elements 0..15
            LongVector high = ShortVector.fromArray(S256, aq, ao + 16).reinterpretAsLongs();   // elements 16..31
            IntVector s0 = IntVector.zero(I256);
            IntVector s1 = IntVector.zero(I256);
            for (int l = 0; l < 4; l++) {
                // Quad l of each half: elements 4l + i and 16 + 4l + i, repeated for the 4 rows of a vector.
                VectorShuffle<Long> quad = l == 0 ? IqkTables.QUAD0 : l == 1 ? IqkTables.QUAD1 : l == 2 ? IqkTables.QUAD2 : IqkTables.QUAD3;
                ShortVector lowAct = low.rearrange(quad).reinterpretAsShorts();
                ShortVector highAct = high.rearrange(quad).reinterpretAsShorts();
                long q = blk + QS + 32 * l;
                IntVector p0 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, q, VecMath.LE).convertShape(VectorOperators.B2S, S256, 0)).mul(lowAct)
                        .add(((ShortVector) ByteVector.fromMemorySegment(B128, w, q + 128, VecMath.LE).convertShape(VectorOperators.B2S, S256, 0)).mul(highAct))
                        .reinterpretAsInts();
                IntVector p1 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, q + 16, VecMath.LE).convertShape(VectorOperators.B2S, S256, 0)).mul(lowAct)
                        .add(((ShortVector) ByteVector.fromMemorySegment(B128, w, q + 144, VecMath.LE).convertShape(VectorOperators.B2S, S256, 0)).mul(highAct))
                        .reinterpretAsInts();
                s0 = s0.add(p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p0.lanewise(VectorOperators.ASHR, 16)));
                s1 = s1.add(p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p1.lanewise(VectorOperators.ASHR, 16)));
            }
            acc0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).fma(d.rearrange(IqkTables.ROW_PAIRS), acc0);
            acc1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).fma(d.rearrange(IqkTables.ROW_PAIRS_HIGH), acc1);
        }
        for (int k = 0; k < 4; k++) {
            y[o + k] = acc0.lane(2 * k) + acc0.lane(2 * k + 1);
            y[o + 4 + k] = acc1.lane(2 * k) + acc1.lane(2 * k + 1);
        }
    }

    @Override
    public void dequantize(MemorySegment w, long off, float[] dst, int dstOff, int k) {
        for (int r = 0; r < 8; r++) Q8_0R8Codec.INSTANCE.dequantizeRow(w, off, r, dst, dstOff + r * k, k);
    }
}
