package dev.panllama.tensor.codec;

import dev.panllama.tensor.BlockCodec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ6_K (ik_llama.cpp): super-blocks of 256 values as
 * {@code half d; u16 extra; i8 scales[16]; u8 qs[128]; u8 qh[64]} (ggml-common.h block_iq6_k).
 * Sixteen sub-blocks of 16 with a signed 8-bit scale each; bit s of extra picks the shifted half of
 * {@link IqkGrid#IQ6} (the standard levels plus one). In the 64-value chunk c, element e &lt; 32 takes
 * the low nibble of qs[32·c + e] and element 32 + e its high nibble; their bits 4-5 are bits
 * 4·(c % 2) + 0..1 (respectively + 2..3) of qh[32·(c / 2) + e]. Value = d · scale · level.
 * See {@link IqkGrid} on the integer levels.
 */
public final class Iq6KCodec implements BlockCodec {
    public static final Iq6KCodec INSTANCE = new Iq6KCodec();

    static final int BLOCK_BYTES = 212;
    static final int SCALES = 4;
    static final int QS = 20;
    static final int QH = 148;

    private Iq6KCodec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("IQ6_K", n, 256);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            float d = half(src, block);
            int extra = src.get(I16_LE, block + 2) & 0xFFFF;
            for (int s = 0; s < 16; s++) {
                float dl = d * src.get(ValueLayout.JAVA_BYTE, block + SCALES + s);
                int shifted = (extra >>> s) & 1;
                int c = s / 4;
                int high = (s / 2) % 2;
                int e0 = 16 * (s % 2);
                int out = dstOff + 256 * b + 16 * s;
                for (int j = 0; j < 16; j++) {
                    int low4 = (unsignedByte(src, block + QS + 32L * c + e0 + j) >>> (4 * high)) & 0x0F;
                    int top2 = (unsignedByte(src, block + QH + 32L * (c / 2) + e0 + j) >>> (4 * (c % 2) + 2 * high)) & 3;
                    dst[out + j] = dl * IqkGrid.IQ6.level(shifted, low4 | (top2 << 4));
                }
            }
        }
    }
}
