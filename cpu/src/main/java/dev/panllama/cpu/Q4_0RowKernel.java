package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.DequantSteps.B64;
import static dev.panllama.cpu.IntDot.B128;
import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * Q4_0 weights (block: f16 d, 16 bytes; low nibbles are values 0..15, high nibbles 16..31, each
 * minus 8) against Q8_0 activations, ggml's vec_dot_q4_0_q8_0.
 */
final class Q4_0RowKernel implements RowKernel {
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
        short[] aq = a.q16;
        float[] ad = a.d16;
        // The 16 nibble bytes widened once to 16-bit lanes; low nibbles masked (q - 8), high nibbles masked in
        // place (16·q - 128) against activations whose low half is stored times 16 (Activations.q16): every
        // product is 16 times ggml's, with no shift (AVX2 has no byte shift, and C2 emits the 16-bit one
        // with its count in a register). The 16 is taken out of the activations' scale (Activations.d16), exactly.
        ShortVector low4 = ShortVector.broadcast(S256, (short) 0x0F);
        ShortVector high4 = ShortVector.broadcast(S256, (short) 0xF0);
        ShortVector eight = ShortVector.broadcast(S256, (short) 8);
        ShortVector eight16 = ShortVector.broadcast(S256, (short) 128);
        // Two accumulators that swap each block: each FMA waits on the one two blocks back, not the last
        // (one chain of dependent FMAs costs an FMA latency per block).
        FloatVector acc = FloatVector.zero(F256);
        FloatVector other = acc;
        long off = rowOff;
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES) {
            ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + 2, VecMath.LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
            ShortVector lo = q.and(low4).sub(eight);
            ShortVector hi = q.and(high4).sub(eight16);
            FloatVector s = (FloatVector) IntDot.dot32(lo, hi, aq, ao + 32 * b).convert(VectorOperators.I2F, 0);
            float d = Float.float16ToFloat(w.get(VecMath.I16, off)) * ad[ab + b];
            FloatVector next = s.fma(FloatVector.broadcast(F256, d), other);
            other = acc;
            acc = next;
        }
        return VecMath.sum(acc.add(other));
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        long off = rowOff;
        for (int i = 0; i < k; i += 32, off += BLOCK_BYTES) {
            float d = Float.float16ToFloat(w.get(VecMath.I16, off));
            // 8 bytes at a time widened to ints (converting the upper part of a wider vector is a slow shuffle).
            IntVector q0 = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + 2, VecMath.LE));
            IntVector q1 = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + 10, VecMath.LE));
            DequantSteps.scaled(q0.and(0x0F).sub(8), d, dst, dstOff + i);
            DequantSteps.scaled(q1.and(0x0F).sub(8), d, dst, dstOff + i + 8);
            DequantSteps.scaled(q0.lanewise(VectorOperators.LSHR, 4).sub(8), d, dst, dstOff + i + 16);
            DequantSteps.scaled(q1.lanewise(VectorOperators.LSHR, 4).sub(8), d, dst, dstOff + i + 24);
        }
    }
}
