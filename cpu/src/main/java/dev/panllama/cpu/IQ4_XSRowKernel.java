package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.IntDot.B128;
import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.I256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * IQ4_XS weights against Q8_K activations, ggml's vec_dot_iq4_xs_q8_K. A super-block (136 bytes: f16 d,
 * u16 scales_h, 4 bytes scales_l, 128 bytes of nibbles) has eight sub-blocks of 32: sub-block ib's
 * 16 bytes at 8 + 16·ib hold its elements 0..15 in the low nibbles and 16..31 in the high ones, each
 * selecting one of the 16 non-linear IQ4 levels (one byte shuffle); the 6-bit scale ls is nibble ib%2
 * of scales_l byte ib/2 plus bits 2·ib of scales_h as bits 4-5, and the values are d·(ls − 32)·level.
 *
 * <p>Ranges (|level| ≤ 127, |a| ≤ 127, |ls − 32| ≤ 32): two products ≤ 32,258 still fit a 16-bit lane
 * but four do not, so the pairs are summed with the full {@link IntDot#pairSum}; a sub-block adds
 * ≤ 4·16,129·32 = 2,064,512 to an int lane, a super-block ≤ 16,516,096 < 2^24.
 */
final class IQ4_XSRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 136;
    private static final int QS = 8;

    @Override
    public ActivationFormat activation() { return ActivationFormat.Q8_K; }

    @Override
    public float dot(MemorySegment w, long rowOff, Activations a, int t) {
        int nb = a.k / 256;
        int ab = t * nb;
        int ao = t * a.k;
        short[] aq = a.q;
        FloatVector acc = FloatVector.zero(F256);
        long off = rowOff;
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256) {
            int head = w.get(KQuantDot.I32, off);
            float d = Float.float16ToFloat((short) head) * a.d[ab + b];
            int scalesHigh = head >>> 16;
            int scalesLow = w.get(KQuantDot.I32, off + 4);
            IntVector isum = IntVector.zero(I256);
            for (int ib = 0; ib < 8; ib++) {
                int ls = ((scalesLow >>> (4 * ib)) & 0x0F) | (((scalesHigh >>> (2 * ib)) & 3) << 4);
                ByteVector q = ByteVector.fromMemorySegment(B128, w, off + QS + 16 * ib, VecMath.LE);
                ShortVector w0 = KQuantDot.iq4Levels(q.and((byte) 0x0F));
                ShortVector w1 = KQuantDot.iq4Levels(KQuantDot.highNibbles(q));
                IntVector s = IntDot.pairSum(w0.mul(ShortVector.fromArray(S256, aq, ao + 32 * ib))
                        .add(w1.mul(ShortVector.fromArray(S256, aq, ao + 32 * ib + 16))));
                isum = isum.add(s.mul(ls - 32));
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
        }
        return VecMath.sum(acc);
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        long off = rowOff;
        for (int i = 0; i < k; i += 256, off += BLOCK_BYTES) {
            int head = w.get(KQuantDot.I32, off);
            float d = Float.float16ToFloat((short) head);
            int scalesHigh = head >>> 16;
            int scalesLow = w.get(KQuantDot.I32, off + 4);
            for (int ib = 0; ib < 8; ib++) {
                int ls = ((scalesLow >>> (4 * ib)) & 0x0F) | (((scalesHigh >>> (2 * ib)) & 3) << 4);
                float dl = d * (ls - 32);
                for (int l = 0; l < 16; l += 8) {
                    ByteVector q = ByteVector.fromMemorySegment(DequantSteps.B64, w, off + QS + 16 * ib + l, VecMath.LE);
                    int o = dstOff + i + 32 * ib + l;
                    DequantSteps.scaled(DequantSteps.iq4Levels8(q), dl, dst, o);
                    DequantSteps.scaled(DequantSteps.iq4Levels8(KQuantDot.highNibbles(q)), dl, dst, o + 16);
                }
            }
        }
    }
}
