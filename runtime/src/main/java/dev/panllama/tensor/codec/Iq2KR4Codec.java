package dev.panllama.tensor.codec;

import dev.panllama.tensor.RowGroupCodec;

import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ2_K_R4 (ik_llama.cpp): four IQ2_K rows interleaved. Block column b of a group of 4 rows is
 * {@code half d[4]; u8 extra[8]; u8 scales[32]; u8 qs[256]} (ggml-common.h block_iq2_k_r4, 304 bytes),
 * as iqk_quantize.cpp's repack_iq2_k builds it. For row k and 32-value group g, half h (elements
 * 16·h..16·h+15) has the 4-bit scale nibble is / 32 of scales[is % 32] with is = 8·g + 4·h + k, minus 8,
 * and bit g of extra[k + 4·h] picks the shifted grid half; byte qs[32·g + 16·h + 4·k + i] (i &lt; 4) holds
 * the 2-bit indices of elements 16·h + i + 4·j at bits 2·j.
 */
public final class Iq2KR4Codec implements RowGroupCodec {
    public static final Iq2KR4Codec INSTANCE = new Iq2KR4Codec();

    static final int BLOCK_BYTES = 304;
    static final int EXTRA = 8;
    static final int SCALES = 16;
    static final int QS = 48;

    private Iq2KR4Codec() {}

    @Override
    public int rows() { return 4; }

    @Override
    public void dequantizeRow(MemorySegment src, long groupOffset, int row, float[] dst, int dstOff, int n) {
        int nb = blocks("IQ2_K_R4", n, 256);
        for (int b = 0; b < nb; b++) {
            long block = groupOffset + (long) b * BLOCK_BYTES;
            float d = half(src, block + 2L * row);
            for (int g = 0; g < 8; g++) {
                for (int h = 0; h < 2; h++) {
                    int is = 8 * g + 4 * h + row;
                    float dl = d * (((unsignedByte(src, block + SCALES + is % 32) >>> (4 * (is / 32))) & 0x0F) - 8);
                    int shifted = (unsignedByte(src, block + EXTRA + row + 4 * h) >>> g) & 1;
                    long qs = block + QS + 32L * g + 16 * h + 4 * row;
                    int out = dstOff + 256 * b + 32 * g + 16 * h;
                    for (int i = 0; i < 4; i++) {
                        int q = unsignedByte(src, qs + i);
                        for (int j = 0; j < 4; j++) dst[out + i + 4 * j] = dl * IqkGrid.IQ2.level(shifted, (q >>> (2 * j)) & 3);
                    }
                }
            }
        }
    }
}
