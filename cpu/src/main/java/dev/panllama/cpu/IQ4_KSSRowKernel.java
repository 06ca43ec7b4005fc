package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.I256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * IQ4_KSS weights against Q8_K activations (ik_llama.cpp's vec_dot_iq4_kss_q8_k). A row is a float d and
 * super-blocks of 128 bytes: per sub-block of 32, eight u16 words whose bit 0 are the bits of an IQ4_KS
 * scale byte and whose upper 15 bits w give the nibbles as v = w ^ (w >> 1) (see Iq4KssCodec). Unscrambled,
 * the 16 bytes of v hold the sub-block's elements 0..15 in their low nibbles and 16..31 in their high ones,
 * exactly IQ4_KS's layout, and the rest is {@link IQ4_KSRowKernel}'s. The scale bits are gathered as the
 * bits of a lane mask (one movemask) in the dot product and with {@link Long#compress} (one pext on x86)
 * in the dequantizer.
 *
 * <p>Ranges as IQ4_KS's.
 */
final class IQ4_KSSRowKernel implements RowKernel {
    static final int BLOCK_BYTES = 128;
    private static final int ROW_META = 4;
    private static final VectorSpecies<Short> S128 = ShortVector.SPECIES_128;
    /** Bit 0 of each of four u16 words. */
    private static final long WORD_LOW_BITS = 0x0001_0001_0001_0001L;

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
        float rowScale = w.get(VecMath.F32, rowOff);
        FloatVector acc = FloatVector.zero(F256);
        float shiftAcc = 0f;
        long off = rowOff + ROW_META;
        // Vector steps written in place, as in the K-quant kernels (see KQuantDot).
        for (int b = 0; b < nb; b++, off += BLOCK_BYTES, ao += 256, so += 16) {
            float d = rowScale * a.d[ab + b];
            int shifts = 0;
            IntVector isum = IntVector.zero(I256);
            for (int g = 0; g < 8; g++) {
                ShortVector raw = ShortVector.fromMemorySegment(S128, w, off + 16 * g, VecMath.LE);
                // The scale byte from the words' bit 0 (a mask's bits), its shifted-grid +4 through the sums per 16.
                int scale = (int) raw.and((short) 1).compare(VectorOperators.NE, (short) 0).toLong();
                int ls = (scale & 254) - 127;
                shifts += ls * (scale & 1) * (sums[so + 2 * g] + sums[so + 2 * g + 1]);
                ShortVector words = raw.and((short) 0xFFFE);
                ByteVector q = words.lanewise(VectorOperators.XOR, words.lanewise(VectorOperators.LSHR, 1)).reinterpretAsBytes();
                ShortVector w0 = (ShortVector) q.and((byte) 0x0F).selectFrom(IqkTables.IQ4).convertShape(VectorOperators.B2S, S256, 0);
                ShortVector w1 = (ShortVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F)
                        .selectFrom(IqkTables.IQ4).convertShape(VectorOperators.B2S, S256, 0);
                IntVector p = w0.mul(ShortVector.fromArray(S256, aq, ao + 32 * g))
                        .add(w1.mul(ShortVector.fromArray(S256, aq, ao + 32 * g + 16))).reinterpretAsInts();
                // Full pair sum (IntDot.pairSum, written out): two such lanes may exceed 16 bits.
                p = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p.lanewise(VectorOperators.ASHR, 16));
                isum = isum.add(p.mul(IntVector.broadcast(I256, ls)));
            }
            acc = ((FloatVector) isum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F256, d), acc);
            shiftAcc += 4 * d * shifts;
        }
        return (((acc.lane(0) + acc.lane(4)) + (acc.lane(2) + acc.lane(6))) + ((acc.lane(1) + acc.lane(5)) + (acc.lane(3) + acc.lane(7)))) + shiftAcc;
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        w.get(VecMath.FAULT_GUARD, rowOff);   // see VecMath.FAULT_GUARD
        float d = w.get(VecMath.F32, rowOff);
        long off = rowOff + ROW_META;
        for (int i = 0; i < k; i += 256, off += BLOCK_BYTES) {
            for (int g = 0; g < 8; g++) {
                long first = w.get(KQuantDot.I64, off + 16 * g);
                long second = w.get(KQuantDot.I64, off + 16 * g + 8);
                int scale = (int) (Long.compress(first, WORD_LOW_BITS) | (Long.compress(second, WORD_LOW_BITS) << 4));
                float dl = d * ((scale & 254) - 127);
                int shift = 4 * (scale & 1);
                ShortVector words = ShortVector.fromMemorySegment(S128, w, off + 16 * g, VecMath.LE).and((short) 0xFFFE);
                ByteVector q = words.lanewise(VectorOperators.XOR, words.lanewise(VectorOperators.LSHR, 1)).reinterpretAsBytes();
                int o = dstOff + i + 32 * g;
                for (int l = 0; l < 16; l += 8) {
                    ByteVector part = (ByteVector) q.slice(l).reinterpretShape(DequantSteps.B64, 0);
                    DequantSteps.scaled(DequantSteps.iq4Levels8(part).add(shift), dl, dst, o + l);
                    DequantSteps.scaled(DequantSteps.iq4Levels8(KQuantDot.highNibbles(part)).add(shift), dl, dst, o + l + 16);
                }
            }
        }
    }
}
