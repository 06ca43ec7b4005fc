package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.putByte;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ4_K_R4 (ik_llama.cpp): four IQ4_K rows interleaved. Block column b of a group of 4 rows is
 * {@code half d[4]; u8 extra[8]; u8 scales_h[16]; u8 scales_l[32]; u8 qs[512]} (ggml-common.h
 * block_iq4_k_r4, 576 bytes; iqk_quantize.cpp repack_iq4_k). For row k, 32-value group g and half h,
 * with is = 8·g + 4·h + k: the 6-bit scale is nibble is / 32 of scales_l[is % 32] plus bits
 * 2·(is / 16) of scales_h[is % 16] as bits 4-5, minus 32; bit g of extra[k + 4·h] picks the shifted grid
 * half. The group's 64 bytes at qs[64·g] are four runs m = 0..3 of 16: byte 16·m + 4·k + i (i &lt; 4)
 * belongs to half h = m % 2 and holds element 16·h + 4·(m / 2) + i in its low nibble and that + 8 in its
 * high nibble. Quantization is ik_llama.cpp's quantize_iq4_k_r4: each row as IQ4_K
 * ({@link Iq4KCodec}), then repacked.
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

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int perRow = rowLength(n);
        int nb = blocks("IQ4_K_R4", perRow, 256);
        long rowBytes = (long) nb * Iq4KCodec.BLOCK_BYTES;
        MemorySegment rows = MemorySegment.ofArray(new byte[Math.toIntExact(4 * rowBytes)]);
        for (int k = 0; k < 4; k++) Iq4KCodec.INSTANCE.quantize(src, srcOff + k * perRow, rows, k * rowBytes, perRow);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            dst.asSlice(block, BLOCK_BYTES).fill((byte) 0);
            for (int k = 0; k < 4; k++) {
                long plain = k * rowBytes + (long) b * Iq4KCodec.BLOCK_BYTES;
                MemorySegment.copy(rows, plain, dst, block + 2L * k, 2);
                int extra = rows.get(I16_LE, plain + 2) & 0xFFFF;
                for (int g = 0; g < 8; g++) {
                    for (int h = 0; h < 2; h++) {
                        int s = 2 * g + h;
                        long extraByte = block + EXTRA + k + 4 * h;
                        putByte(dst, extraByte, unsignedByte(dst, extraByte) | (((extra >>> s) & 1) << g));
                        int ls = Iq4KCodec.scale(rows, plain, s);
                        int is = 8 * g + 4 * h + k;
                        long low = block + SCALES_L + is % 32;
                        putByte(dst, low, unsignedByte(dst, low) | ((ls & 0x0F) << (4 * (is / 32))));
                        long high = block + SCALES_H + is % 16;
                        putByte(dst, high, unsignedByte(dst, high) | ((ls >>> 4) << (2 * (is / 16))));
                    }
                    // Run m, byte 4k + i: elements 16h + 4(m / 2) + i and that + 8 of the group (see the class comment).
                    long qs = plain + Iq4KCodec.QS + 16L * g;
                    for (int m = 0; m < 4; m++) {
                        int nibble = 4 * (m % 2);
                        int first = 4 * (m / 2);
                        for (int i = 0; i < 4; i++) {
                            int lo = (unsignedByte(rows, qs + first + i) >>> nibble) & 0x0F;
                            int hi = (unsignedByte(rows, qs + first + i + 8) >>> nibble) & 0x0F;
                            putByte(dst, block + QS + 64L * g + 16 * m + 4 * k + i, lo | (hi << 4));
                        }
                    }
                }
            }
        }
    }

    @Override
    public boolean canQuantize() { return true; }
}
