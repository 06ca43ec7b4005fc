package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.cpu.DequantSteps.B64;
import static dev.panllama.cpu.IntDot.B128;
import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.I256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * Q6_K weights against Q8_K activations, ggml's vec_dot_q6_K_q8_K. A super-block (210 bytes: 128 bytes
 * of low nibbles, 64 of high bit pairs, 16 int8 scales, f16 d) holds element e = 128h + 32k + l with
 * its low nibble in byte 64h + 32(k%2) + l at bit 4(k/2) and its high pair in byte 128 + 32h + l at
 * bit 2k; its value is d·sc_{e/16}·(q − 32). As in ggml the −32 is not applied per weight: the dot
 * product takes q ∈ [0, 63] and subtracts 32·Σ_j sc_j·bsum_j, the activations' sums per 16.
 *
 * <p>The offset term sc_j·bsum_j stays in int lanes (≤ 2·128·2,032 each) and is accumulated in float.
 * Ranges (q ≤ 63, |a| ≤ 127, |sc| ≤ 128): a product is ≤ 8001, two adjacent ones ≤ 16002, so the
 * narrow pair sum holds; a sub-block adds ≤ 16002·128 = 2,048,256 to an int lane. Eight sub-blocks (one
 * half, h) stay below 2^24 = 16,777,216, so the lanes convert to float exactly once per half.
 */
final class Q6_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 210;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;

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
        int so = t * (a.k / 16);
        short[] aq = a.q;
        int[] sums = a.sums;
        int[] sc = KQuantDot.scaleScratch();
        FloatVector acc = FloatVector.zero(F256);
        long off = rowOff;
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256, so += 16) {
            float d = Float.float16ToFloat(w.get(VecMath.I16, off + D)) * a.d[ab + b];
            // The 16 int8 scales, widened at once into the scratch (one broadcast load each below), and
            // their products with the activations' sums per 16 for the −32 offset.
            IntVector sc0 = (IntVector) ByteVector.fromMemorySegment(B64, w, off + SCALES, VecMath.LE).convertShape(VectorOperators.B2I, I256, 0);
            IntVector sc1 = (IntVector) ByteVector.fromMemorySegment(B64, w, off + SCALES + 8, VecMath.LE).convertShape(VectorOperators.B2I, I256, 0);
            sc0.intoArray(sc, 0);
            sc1.intoArray(sc, 8);
            IntVector offsets = sc0.mul(IntVector.fromArray(I256, sums, so)).add(sc1.mul(IntVector.fromArray(I256, sums, so + 8)));
            acc = ((FloatVector) offsets.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, -32 * d), acc);
            for (int h = 0; h < 2; h++) {
                IntVector isum = IntVector.zero(I256);
                // Two sub-blocks of 16 per step: groups k = kk and kk + 2 share their ql bytes (low and
                // high nibbles) and their qh bytes (high pairs at bits 2kk and 2kk + 4). Offsets are
                // linear in the loop counters so that range checks hoist. Every vector step is a Vector
                // API call written in place: this method is past C2's inlining budget, where those are
                // still inlined but a helper of ours would stay out of line and box its vectors.
                for (int half = 0; half < 2; half++) {
                    ShortVector qh = (ShortVector) ByteVector.fromMemorySegment(B128, w, off + QH + 32 * h + 16 * half, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                    long ql = off + 64 * h + 16 * half;
                    int e = ao + 128 * h + 16 * half;
                    int j = 8 * h + half;
                    for (int kk = 0; kk < 2; kk++, ql += 32, e += 32, j += 2) {
                        ShortVector l = (ShortVector) ByteVector.fromMemorySegment(B128, w, ql, VecMath.LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
                        ShortVector pairs = qh.lanewise(VectorOperators.LSHR, 2 * kk);
                        ShortVector q1 = l.and((short) 0x0F).or(pairs.lanewise(VectorOperators.LSHL, 4).and((short) 0x30));
                        ShortVector q2 = l.lanewise(VectorOperators.LSHR, 4).or(pairs.and((short) 0x30));
                        IntVector p1 = q1.mul(ShortVector.fromArray(S256, aq, e)).reinterpretAsInts();
                        IntVector p2 = q2.mul(ShortVector.fromArray(S256, aq, e + 64)).reinterpretAsInts();
                        // Narrow pair sums (KQuantDot.pairSumNarrow, written out), times the scales.
                        p1 = p1.add(p1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                        p2 = p2.add(p2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                        isum = isum.add(p1.mul(IntVector.broadcast(I256, sc[j]))).add(p2.mul(IntVector.broadcast(I256, sc[j + 4])));
                    }
                }
                acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
            }
        }
        // VecMath.sum's order written out: this method is past C2's inlining budget, where a call to
        // our own code would stay out of line and box its argument.
        return ((acc.lane(0) + acc.lane(4)) + (acc.lane(2) + acc.lane(6))) + ((acc.lane(1) + acc.lane(5)) + (acc.lane(3) + acc.lane(7)));
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        long off = rowOff;
        for (int i = 0; i < k; i += 256, off += BLOCK_BYTES) {
            float d = KQuantDot.half(w, off + D);
            for (int h = 0; h < 2; h++) {
                for (int kq = 0; kq < 4; kq++) {
                    for (int l = 0; l < 32; l += 8) {
                        float scale = d * w.get(ValueLayout.JAVA_BYTE, off + SCALES + 8 * h + 2 * kq + (l >> 4));
                        IntVector low = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + 64 * h + 32 * (kq & 1) + l, VecMath.LE)).lanewise(VectorOperators.LSHR, 4 * (kq >> 1)).and(0x0F);
                        IntVector high = DequantSteps.unsigned8(ByteVector.fromMemorySegment(B64, w, off + QH + 32 * h + l, VecMath.LE)).lanewise(VectorOperators.LSHR, 2 * kq).and(3);
                        DequantSteps.scaled(low.or(high.lanewise(VectorOperators.LSHL, 4)).sub(32), scale, dst, dstOff + i + 128 * h + 32 * kq + l);
                    }
                }
            }
        }
    }
}
