package dev.panllama.tensor.codec;

import dev.panllama.tensor.BlockCodec;

import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ3_K (ik_llama.cpp): super-blocks of 256 values as
 * {@code half d; u16 extra; u16 scales_h; u8 scales_l[8]; u8 qs[64]; u8 qh[32]} (ggml-common.h
 * block_iq3_k). Sixteen sub-blocks of 16: sub-block s has the odd scale 2·(nibble s % 2 of
 * scales_l[s / 2]) + 1, negated when bit s of scales_h is set, and bit s of extra picks the shifted
 * half of {@link IqkGrid#IQ3}. Element j (0..31) of the 32-value group g has a 3-bit index: its low two
 * bits at bits 2·(g % 4) of qs[32·(g / 4) + j] (as IQ2_K), its third bit at bit g of qh[j].
 */
public final class Iq3KCodec implements BlockCodec {
    public static final Iq3KCodec INSTANCE = new Iq3KCodec();

    static final int BLOCK_BYTES = 110;
    static final int SCALES_H = 4;
    static final int SCALES_L = 6;
    static final int QS = 14;
    static final int QH = 78;

    private Iq3KCodec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("IQ3_K", n, 256);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            float d = half(src, block);
            int extra = src.get(I16_LE, block + 2) & 0xFFFF;
            int signs = src.get(I16_LE, block + SCALES_H) & 0xFFFF;
            for (int g = 0; g < 8; g++) {
                int scales = unsignedByte(src, block + SCALES_L + g);
                long qs = block + QS + 32L * (g / 4);
                int shift = 2 * (g % 4);
                int out = dstOff + 256 * b + 32 * g;
                for (int half = 0; half < 2; half++) {
                    int s = 2 * g + half;
                    int scale = 2 * ((scales >>> (4 * half)) & 0x0F) + 1;
                    float dl = d * (((signs >>> s) & 1) != 0 ? -scale : scale);
                    int shifted = (extra >>> s) & 1;
                    for (int j = 16 * half; j < 16 * half + 16; j++) {
                        int q = ((unsignedByte(src, qs + j) >>> shift) & 3) | (((unsignedByte(src, block + QH + j) >>> g) & 1) << 2);
                        dst[out + j] = dl * IqkGrid.IQ3.level(shifted, q);
                    }
                }
            }
        }
    }
}
