package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.DequantSteps.B64;
import static dev.panllama.cpu.IntDot.F256;

/**
 * Q8_1 weights (block of 32: f16 d, f16 s = d·Σq, 32 int8; value d·q) against Q8_0 activations: per
 * block the exact integer Σ q·a scaled by d·d_a (s is not needed). Two products per 16-bit lane reach
 * 2·128·127 = 32,512, so the pairs are summed with the full {@link IntDot#pairSum}.
 */
final class Q8_1RowKernel implements RowKernel {
    static final int BLOCK_BYTES = 36;

    @Override
    public ActivationFormat activation() { return ActivationFormat.Q8_0; }

    @Override
    public void dotTokens(MemorySegment w, long rowOff, Activations a, float[] y, int yOff, int yStride) {
        for (int t = 0; t < a.tokens; t++) y[t * yStride + yOff] = dot(w, rowOff, a, t);   // per class: see RowKernel
    }

    @Override
    public float dot(MemorySegment w, long rowOff, Activations a, int t) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        int nb = a.k / 32;
        int ab = t * nb;
        int ao = t * a.k;
        FloatVector acc = FloatVector.zero(F256);
        long off = rowOff;
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 32) {
            float d = Float.float16ToFloat(w.get(VecMath.I16, off)) * a.d[ab + b];
            ShortVector w0 = IntDot.widen(ByteVector.fromMemorySegment(IntDot.B128, w, off + 4, VecMath.LE));
            ShortVector w1 = IntDot.widen(ByteVector.fromMemorySegment(IntDot.B128, w, off + 20, VecMath.LE));
            FloatVector s = (FloatVector) IntDot.dot32(w0, w1, a.q, ao)
                    .convert(VectorOperators.I2F, 0);
            acc = s.fma(FloatVector.broadcast(F256, d), acc);
        }
        return VecMath.sum(acc);
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        long off = rowOff;
        for (int i = 0; i < k; i += 32, off += BLOCK_BYTES) {
            float d = KQuantDot.half(w, off);
            for (int l = 0; l < 32; l += 8) DequantSteps.scaled(DequantSteps.signed8(ByteVector.fromMemorySegment(B64, w, off + 4 + l, VecMath.LE)), d, dst, dstOff + i + l);
        }
    }
}
