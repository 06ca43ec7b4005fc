package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.I256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * Q3_K weights against Q8_K activations, ggml's vec_dot_q3_K_q8_K. A super-block (110 bytes: 32 bytes
 * of high bits, 64 of 2-bit low parts, 12 of packed 6-bit scales, f16 d) holds element
 * e = 128h + 32k + l as the bits 2k of byte 32 + 32h + l, plus bit 4h + k of byte l as 4; its value is
 * d·(sc_{e/16} − 32)·(q − 4). The −4 is taken through the activations' sums per 16 (as ggml does for
 * Q6_K's −32), so the per-weight loop multiplies q ∈ [0, 7].
 *
 * <p>Ranges (q ≤ 7, |a| ≤ 127, |sc − 32| ≤ 32): two adjacent products ≤ 1,778, so the narrow pair sum
 * holds; a sub-block adds ≤ 56,896 to an int lane, a super-block ≤ 910,336 < 2^24.
 */
final class Q3_KRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 110;
    private static final int QS = 32;
    private static final int SCALES = 96;
    private static final int D = 108;

    @Override
    public ActivationFormat activation() { return ActivationFormat.Q8_K; }

    @Override
    public float dot(MemorySegment w, long rowOff, Activations a, int t) {
        int nb = a.k / 256;
        int ab = t * nb;
        int ao = t * a.k;
        int so = t * (a.k / 16);
        short[] aq = a.q;
        int[] sums = a.sums;
        int[] sc = KQuantDot.scaleScratch();
        FloatVector acc = FloatVector.zero(F256);
        float offsetAcc = 0;
        long off = rowOff;
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256, so += 16) {
            float d = Float.float16ToFloat(w.get(VecMath.I16, off + D)) * a.d[ab + b];
            int lowNibbles = w.get(KQuantDot.I32, off + SCALES);
            int highNibbles = w.get(KQuantDot.I32, off + SCALES + 4);
            int topBits = w.get(KQuantDot.I32, off + SCALES + 8);
            int offsetDot = 0;
            for (int g = 0; g < 4; g++) {
                int word = scaleWord(lowNibbles, highNibbles, topBits, g);
                for (int i = 0; i < 4; i++) {
                    int j = 4 * g + i;
                    sc[j] = ((word >>> (8 * i)) & 0xFF) - 32;
                    offsetDot += sc[j] * sums[so + j];
                }
            }
            IntVector isum = IntVector.zero(I256);
            // One sub-block of 16 per innermost step (C2 stops inlining past a node budget and the
            // Vector API's inlined code is large); offsets are linear in the counters so that range
            // checks hoist.
            for (int half = 0; half < 2; half++) {
                // The high bits of elements 16·half + (0..15) of every 32: bit 4h + k of these bytes.
                ShortVector hm = KQuantDot.unsignedBytes(w, off + 16 * half).lanewise(VectorOperators.LSHL, 2);
                for (int h = 0; h < 2; h++) {
                    ShortVector low = KQuantDot.unsignedBytes(w, off + QS + 32 * h + 16 * half);
                    for (int k = 0, j = 8 * h + half; k < 4; k++, j += 2) {
                        ShortVector q = low.lanewise(VectorOperators.LSHR, 2 * k).and((short) 3)
                                .or(hm.lanewise(VectorOperators.LSHR, 4 * h + k).and((short) 4));
                        isum = isum.add(KQuantDot.pairSumNarrow(q.mul(ShortVector.fromArray(S256, aq, ao + 16 * j))).mul(sc[j]));
                    }
                }
            }
            offsetAcc += d * (4 * offsetDot);
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
        }
        return VecMath.sum(acc) - offsetAcc;
    }

    /**
     * Scales 4g..4g+3 as the bytes of one int, from the 12 packed bytes read as three little-endian
     * ints: the low nibble of scale j is nibble j/8 of byte j%8 (bytes 0-7), its top two bits are bits
     * 2·(j/4) of byte 8 + j%4.
     */
    private static int scaleWord(int lowNibbles, int highNibbles, int topBits, int g) {
        int low = (((g & 1) == 0 ? lowNibbles : highNibbles) >>> (4 * (g >> 1))) & 0x0F0F0F0F;
        return low | (((topBits >>> (2 * g)) & 0x03030303) << 4);
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        int[] sc = KQuantDot.scaleScratch();
        long off = rowOff;
        for (int i = 0; i < k; i += 256, off += BLOCK_BYTES) {
            float d = KQuantDot.half(w, off + D);
            int lowNibbles = w.get(KQuantDot.I32, off + SCALES);
            int highNibbles = w.get(KQuantDot.I32, off + SCALES + 4);
            int topBits = w.get(KQuantDot.I32, off + SCALES + 8);
            for (int g = 0; g < 4; g++) {
                int word = scaleWord(lowNibbles, highNibbles, topBits, g);
                for (int b = 0; b < 4; b++) sc[4 * g + b] = ((word >>> (8 * b)) & 0xFF) - 32;
            }
            for (int h = 0; h < 2; h++) {
                for (int kq = 0; kq < 4; kq++) {
                    for (int l = 0; l < 32; l += 8) {
                        float step = d * sc[8 * h + 2 * kq + (l >> 4)];
                        IntVector low = DequantSteps.unsigned8(w, off + QS + 32 * h + l).lanewise(VectorOperators.LSHR, 2 * kq).and(3);
                        IntVector high = DequantSteps.unsigned8(w, off + l).lanewise(VectorOperators.LSHR, 4 * h + kq).and(1);
                        DequantSteps.scaled(low.or(high.lanewise(VectorOperators.LSHL, 2)).sub(4), step, dst, dstOff + i + 128 * h + 32 * kq + l);
                    }
                }
            }
        }
    }
}
