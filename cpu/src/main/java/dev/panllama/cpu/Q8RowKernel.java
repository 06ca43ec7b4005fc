package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.DequantSteps.B64;
import static dev.panllama.cpu.IntDot.F256;

/**
 * Q8_0 weights (block: f16 d, 32 int8) against Q8_0 activations: per block the exact integer sum
 * Σ w·a, scaled by d_w·d_a — ggml's vec_dot_q8_0_q8_0. Q8_1 weights (block: f16 d, f16 s = d·Σq,
 * 32 int8) are the same dot with the values 2 bytes further (s is not needed). Two products per
 * 16-bit lane reach 2·128·127 = 32,512, so the pairs are summed with the full {@link IntDot#pairSum}.
 * One class for both: a model holds one or the other, and its token loop sees one receiver class.
 */
final class Q8RowKernel implements RowKernel {
    static final Q8RowKernel Q8_0 = new Q8RowKernel(2);
    static final Q8RowKernel Q8_1 = new Q8RowKernel(4);

    /** Where the 32 values start in a block: after d (Q8_0), after d and s (Q8_1). */
    private final int qs;
    private final int blockBytes;

    private Q8RowKernel(int qs) {
        this.qs = qs;
        this.blockBytes = qs + 32;
    }

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
        short[] aq = a.q;
        float[] ad = a.d;
        FloatVector acc = FloatVector.zero(F256);
        long off = rowOff;
        for (int b = 0; b < nb; b++, off += blockBytes) {
            // Two 16-byte loads widen straight from memory; one 32-byte load would need an extract for its top half.
            ShortVector w0 = IntDot.widen(ByteVector.fromMemorySegment(IntDot.B128, w, off + qs, VecMath.LE));
            ShortVector w1 = IntDot.widen(ByteVector.fromMemorySegment(IntDot.B128, w, off + qs + 16, VecMath.LE));
            FloatVector s = (FloatVector) IntDot.dot32(w0, w1, aq, ao + 32 * b).convert(VectorOperators.I2F, 0);
            float d = Float.float16ToFloat(w.get(VecMath.I16, off)) * ad[ab + b];
            acc = s.fma(FloatVector.broadcast(F256, d), acc);
        }
        return VecMath.sum(acc);
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        long off = rowOff;
        for (int i = 0; i < k; i += 32, off += blockBytes) {
            float d = Float.float16ToFloat(w.get(VecMath.I16, off));
            // 8 bytes at a time widened to ints (converting the upper part of a wider vector is a slow shuffle).
            for (int p = 0; p < 32; p += 8) DequantSteps.scaled(DequantSteps.signed8(ByteVector.fromMemorySegment(B64, w, off + qs + p, VecMath.LE)), d, dst, dstOff + i + p);
        }
    }
}
