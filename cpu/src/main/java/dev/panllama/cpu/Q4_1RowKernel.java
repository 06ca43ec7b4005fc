package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.DequantSteps.B64;
import static dev.panllama.cpu.IntDot.F256;

/**
 * Q4_1 weights (block of 32: f16 d, f16 m, 16 bytes of nibbles ordered as in Q4_0; value d·q + m)
 * against Q8_0 activations, as ggml's vec_dot_q4_1_q8_1: per block d·d_a·Σ q·a + m·d_a·Σ a, the second
 * sum being the activations' per-block sum. Four adjacent products are ≤ 4·15·127 = 7,620, so the
 * narrow pair sum holds.
 */
final class Q4_1RowKernel implements RowKernel {
    static final int BLOCK_BYTES = 20;

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
        float offsetAcc = 0;
        long off = rowOff;
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 32) {
            int head = w.get(KQuantDot.I32, off);
            float da = a.d[ab + b];
            float d = Float.float16ToFloat((short) head) * da;
            offsetAcc += Float.float16ToFloat((short) (head >>> 16)) * da * a.sums[ab + b];
            ShortVector q = KQuantDot.unsignedBytes(ByteVector.fromMemorySegment(IntDot.B128, w, off + 4, VecMath.LE));
            IntVector s = KQuantDot.dot32Narrow(q.and((short) 0x0F), q.lanewise(VectorOperators.LSHR, 4), aq, ao);
            acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
        }
        return VecMath.sum(acc) + offsetAcc;
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        long off = rowOff;
        for (int i = 0; i < k; i += 32, off += BLOCK_BYTES) {
            float d = KQuantDot.half(w, off);
            float m = KQuantDot.half(w, off + 2);
            for (int l = 0; l < 16; l += 8) {
                IntVector q = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + 4 + l, VecMath.LE));
                DequantSteps.scaledPlus(q.and(0x0F), d, m, dst, dstOff + i + l);
                DequantSteps.scaledPlus(q.lanewise(VectorOperators.LSHR, 4), d, m, dst, dstOff + i + l + 16);
            }
        }
    }
}
