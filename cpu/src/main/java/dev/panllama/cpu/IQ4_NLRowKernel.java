package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.DequantSteps.B64;
import static dev.panllama.cpu.IntDot.B128;
import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * IQ4_NL weights (block of 32: f16 d, 16 bytes whose low nibbles select the IQ4 levels of elements
 * 0..15 and high nibbles those of 16..31) against Q8_0 activations, ggml's vec_dot_iq4_nl_q8_0: per
 * block the exact integer Σ level·a (≤ 32·127·127, two products per 16-bit lane, full pair sum)
 * scaled by d·d_a.
 */
final class IQ4_NLRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 18;

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
        FloatVector acc = FloatVector.zero(F256);
        long off = rowOff;
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 32) {
            float d = Float.float16ToFloat(w.get(VecMath.I16, off)) * a.d[ab + b];
            ByteVector q = ByteVector.fromMemorySegment(B128, w, off + 2, VecMath.LE);
            ShortVector w0 = KQuantDot.iq4Levels(q.and((byte) 0x0F));
            ShortVector w1 = KQuantDot.iq4Levels(KQuantDot.highNibbles(q));
            FloatVector s = (FloatVector) IntDot.pairSum(w0.mul(ShortVector.fromArray(S256, aq, ao))
                    .add(w1.mul(ShortVector.fromArray(S256, aq, ao + 16)))).convert(VectorOperators.I2F, 0);
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
            for (int l = 0; l < 16; l += 8) {
                ByteVector q = ByteVector.fromMemorySegment(B64, w, off + 2 + l, VecMath.LE);
                DequantSteps.scaled(DequantSteps.iq4Levels8(q), d, dst, dstOff + i + l);
                DequantSteps.scaled(DequantSteps.iq4Levels8(KQuantDot.highNibbles(q)), d, dst, dstOff + i + l + 16);
            }
        }
    }
}
