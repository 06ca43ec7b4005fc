package dev.panllama.tensor.codec;

import dev.panllama.tensor.BlockCodec;

import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ5_K (ik_llama.cpp): super-blocks of 256 values as
 * {@code half d; u16 extra; u8 scales_h[4]; u8 scales_l[8]; u8 qs[128]; u8 qh[32]} (ggml-common.h
 * block_iq5_k). Sixteen sub-blocks of 16 with 6-bit scales stored as IQ4_K's and bit s of extra picking
 * the shifted half of {@link IqkGrid#IQ5}. In the 64-value chunk c, element e &lt; 32 takes the low
 * nibble of qs[32·c + e] and element 32 + e its high nibble (Q4_K's layout); the fifth bit of both is
 * bit 2·c (respectively 2·c + 1) of qh[e]. Value = d · (ls − 32) · level.
 */
public final class Iq5KCodec implements BlockCodec {
    public static final Iq5KCodec INSTANCE = new Iq5KCodec();

    static final int BLOCK_BYTES = 176;
    static final int QS = 16;
    static final int QH = 144;

    private Iq5KCodec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("IQ5_K", n, 256);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            float d = half(src, block);
            int extra = src.get(I16_LE, block + 2) & 0xFFFF;
            for (int s = 0; s < 16; s++) {
                // Sub-block s covers elements 16·s..: chunk c = s / 4, nibble (s / 2) % 2, bytes 16·(s % 2)...
                float dl = d * (Iq4KCodec.scale(src, block, s) - 32);
                int shifted = (extra >>> s) & 1;
                int c = s / 4;
                int high = (s / 2) % 2;
                int e0 = 16 * (s % 2);
                int out = dstOff + 256 * b + 16 * s;
                for (int j = 0; j < 16; j++) {
                    int low4 = (unsignedByte(src, block + QS + 32L * c + e0 + j) >>> (4 * high)) & 0x0F;
                    int bit5 = (unsignedByte(src, block + QH + e0 + j) >>> (2 * c + high)) & 1;
                    dst[out + j] = dl * IqkGrid.IQ5.level(shifted, low4 | (bit5 << 4));
                }
            }
        }
    }
}
