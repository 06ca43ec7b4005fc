package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.DequantSteps.B64;
import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.I256;

/**
 * Q8_K weights (super-block of 256: f32 d, 256 int8, 16 int16 sums; value d·q) against Q8_K
 * activations: Σ q·a per super-block, scaled by d·d_a. Two products per 16-bit lane reach
 * 2·128·127 = 32,512 (full pair sum); a super-block adds ≤ 8·4·16,256 = 520,192 to an int lane.
 */
final class Q8_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 292;

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
        FloatVector acc = FloatVector.zero(F256);
        long off = rowOff;
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256) {
            float d = w.get(VecMath.F32, off) * a.d[ab + b];
            IntVector isum = IntVector.zero(I256);
            for (int c = 0; c < 8; c++) {
                long q = off + 4 + 32 * c;
                ShortVector w0 = IntDot.widen(ByteVector.fromMemorySegment(IntDot.B128, w, q, VecMath.LE));
                ShortVector w1 = IntDot.widen(ByteVector.fromMemorySegment(IntDot.B128, w, q + 16, VecMath.LE));
                isum = isum.add(IntDot.dot32(w0, w1, a.q, ao + 32 * c));
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
        }
        return VecMath.sum(acc);
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        long off = rowOff;
        for (int i = 0; i < k; i += 256, off += BLOCK_BYTES) {
            float d = w.get(VecMath.F32, off);
            for (int e = 0; e < 256; e += 8) DequantSteps.scaled(DequantSteps.signed8(ByteVector.fromMemorySegment(B64, w, off + 4 + e, VecMath.LE)), d, dst, dstOff + i + e);
        }
    }
}
