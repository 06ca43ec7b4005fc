package dev.panllama.tensor.codec;

import dev.panllama.tensor.RowGroupCodec;

import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ4_K_R4 (ik_llama.cpp): four IQ4_K rows interleaved. Block column b of a group of 4 rows is
 * {@code half d[4]; u8 extra[8]; u8 scales_h[16]; u8 scales_l[32]; u8 qs[512]} (ggml-common.h
 * block_iq4_k_r4, 576 bytes; iqk_quantize.cpp repack_iq4_k). For row k, 32-value group g and half h,
 * with is = 8·g + 4·h + k: the 6-bit scale is nibble is / 32 of scales_l[is % 32] plus bits
 * 2·(is / 16) of scales_h[is % 16] as bits 4-5, minus 32; bit g of extra[k + 4·h] picks the shifted grid
 * half. The group's 64 bytes at qs[64·g] are four runs m = 0..3 of 16: byte 16·m + 4·k + i (i &lt; 4)
 * belongs to half h = m % 2 and holds element 16·h + 4·(m / 2) + i in its low nibble and that + 8 in its
 * high nibble.
 */
public final class Iq4KR4Codec implements RowGroupCodec {
    public static final Iq4KR4Codec INSTANCE = new Iq4KR4Codec();

    static final int BLOCK_BYTES = 576;
    static final int EXTRA = 8;
    static final int SCALES_H = 16;
    static final int SCALES_L = 32;
    static final int QS = 64;

    private Iq4KR4Codec() {}

    @Override
    public int rows() { return 4; }

    @Override
    public void dequantizeRow(MemorySegment src, long groupOffset, int row, float[] dst, int dstOff, int n) {
        int nb = blocks("IQ4_K_R4", n, 256);
        float[] dl = new float[2];
        int[] shifted = new int[2];
        for (int b = 0; b < nb; b++) {
            long block = groupOffset + (long) b * BLOCK_BYTES;
            float d = half(src, block + 2L * row);
            for (int g = 0; g < 8; g++) {
                for (int h = 0; h < 2; h++) {
                    int is = 8 * g + 4 * h + row;
                    int low = (unsignedByte(src, block + SCALES_L + is % 32) >>> (4 * (is / 32))) & 0x0F;
                    int high = (unsignedByte(src, block + SCALES_H + is % 16) >>> (2 * (is / 16))) & 3;
                    dl[h] = d * ((low | (high << 4)) - 32);
                    shifted[h] = (unsignedByte(src, block + EXTRA + row + 4 * h) >>> g) & 1;
                }
                int out = dstOff + 256 * b + 32 * g;
                for (int m = 0; m < 4; m++) {
                    int h = m % 2;
                    long qs = block + QS + 64L * g + 16 * m + 4 * row;
                    int e = out + 16 * h + 4 * (m / 2);
                    for (int i = 0; i < 4; i++) {
                        int q = unsignedByte(src, qs + i);
                        dst[e + i] = dl[h] * IqkGrid.IQ4.level(shifted[h], q & 0x0F);
                        dst[e + i + 8] = dl[h] * IqkGrid.IQ4.level(shifted[h], q >>> 4);
                    }
                }
            }
        }
    }
}
