package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.F32_LE;
import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;

/**
 * IQ4_KSS (ik_llama.cpp): IQ4_KS squeezed to exactly 4 bits per weight. A row is one float d followed
 * by super-blocks of 256 values as {@code u16 qs[128]} (ggml-common.h block_iq4_kss). Each sub-block
 * of 32 is 8 consecutive u16 words w_0..w_7: bit 0 of w_k is bit k of the sub-block's IQ4_KS scale
 * byte; the other 15 bits, as v = (w & 0xfffe) ^ ((w & 0xfffe) >> 1), give four IQ4 nibbles for
 * elements 2k (bits 0-3), 2k + 16 (4-7), 2k + 1 (8-11) and 2k + 17 (12-15). The encoding makes room for
 * the scale bit by keeping only nibble quadruples of even popcount, whose 16th bit then follows from the
 * other 15 (ik_llama.cpp's scramble_table is that inverse).
 *
 * <p>Quantization follows ik_llama.cpp's quantize_iq4_kss without an imatrix (see {@link Iq4KssEncoder}).
 */
public final class Iq4KssCodec implements BlockCodec {
    public static final Iq4KssCodec INSTANCE = new Iq4KssCodec();

    static final int ROW_META = 4;
    static final int BLOCK_BYTES = 128;

    private Iq4KssCodec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("IQ4_KSS", n, 256);
        float d = src.get(F32_LE, offset);
        for (int g = 0; g < 8 * nb; g++) {
            long words = offset + ROW_META + 16L * g;
            int scale = 0;
            for (int k = 0; k < 8; k++) scale |= (src.get(I16_LE, words + 2 * k) & 1) << k;
            float dl = d * ((scale & 254) - 127);
            int shifted = scale & 1;
            int out = dstOff + 32 * g;
            for (int k = 0; k < 8; k++) {
                int v = nibbles(src.get(I16_LE, words + 2 * k));
                dst[out + 2 * k] = dl * IqkGrid.IQ4.level(shifted, v & 0x0F);
                dst[out + 2 * k + 16] = dl * IqkGrid.IQ4.level(shifted, (v >>> 4) & 0x0F);
                dst[out + 2 * k + 1] = dl * IqkGrid.IQ4.level(shifted, (v >>> 8) & 0x0F);
                dst[out + 2 * k + 17] = dl * IqkGrid.IQ4.level(shifted, v >>> 12);
            }
        }
    }

    /** The four nibbles a stored word carries (its 15 upper bits, unscrambled). */
    static int nibbles(short word) {
        int w = word & 0xFFFE;
        return w ^ (w >>> 1);
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int nb = blocks("IQ4_KSS", n, 256);
        new Iq4KssEncoder(8 * nb).encodeRow(src, srcOff, dst, offset);
    }

    @Override
    public boolean canQuantize() { return true; }
}
