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
 * Q5_0 weights (block of 32: f16 d, u32 qh, 16 bytes of nibbles ordered as in Q4_0; level q = nibble +
 * 16·(bit j of qh), value d·(q − 16)) against Q8_0 activations, ggml's vec_dot_q5_0_q8_0. The −16 is
 * taken through the activations' per-block sum, so the per-weight loop multiplies q ∈ [0, 31]: four
 * adjacent products ≤ 4·31·127 = 15,748, within the narrow pair sum.
 */
final class Q5_0RowKernel implements RowKernel {
    static final int BLOCK_BYTES = 22;

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
            float d = Float.float16ToFloat(w.get(VecMath.I16, off)) * a.d[ab + b];
            int qh = w.get(KQuantDot.I32, off + 2);
            offsetAcc += d * (16 * a.sums[ab + b]);
            ShortVector q = KQuantDot.unsignedBytes(ByteVector.fromMemorySegment(IntDot.B128, w, off + 6, VecMath.LE));
            IntVector s = KQuantDot.dot32Narrow(q.and((short) 0x0F).or(KQuantDot.bitsAsSixteens(qh)),
                    q.lanewise(VectorOperators.LSHR, 4).or(KQuantDot.bitsAsSixteens(qh >>> 16)), aq, ao);
            acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
        }
        return VecMath.sum(acc) - offsetAcc;
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        long off = rowOff;
        for (int i = 0; i < k; i += 32, off += BLOCK_BYTES) {
            float d = KQuantDot.half(w, off);
            int qh = w.get(KQuantDot.I32, off + 2);
            for (int l = 0; l < 16; l += 8) {
                IntVector q = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + 6 + l, VecMath.LE));
                DequantSteps.scaled(q.and(0x0F).or(DequantSteps.bitsAsSixteens8(qh, l)).sub(16), d, dst, dstOff + i + l);
                DequantSteps.scaled(q.lanewise(VectorOperators.LSHR, 4).or(DequantSteps.bitsAsSixteens8(qh, l + 16)).sub(16), d, dst, dstOff + i + l + 16);
            }
        }
    }
}
