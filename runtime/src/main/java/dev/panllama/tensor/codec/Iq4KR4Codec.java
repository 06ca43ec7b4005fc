package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
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
public final class Iq4KR4Codec extends InterleavedRowsCodec {
    public static final Iq4KR4Codec INSTANCE = new Iq4KR4Codec();

    static final int EXTRA = 8;
    static final int SCALES_H = 16;
    static final int SCALES_L = 32;
    static final int QS = 64;

    private Iq4KR4Codec() {
        super("IQ4_K_R4", 4, 256, 576, Iq4KCodec.INSTANCE, Iq4KCodec.BLOCK_BYTES, false);
    }

    @Override
    void decodeBlock(MemorySegment src, long block, int row, float d, float[] dst, int out) {
        for (int g = 0; g < 8; g++) {
            float dl0 = d * (scale(src, block, 8 * g + row) - 32);
            float dl1 = d * (scale(src, block, 8 * g + 4 + row) - 32);
            int extra = unsignedByte(src, block + EXTRA + row);
            int extra1 = unsignedByte(src, block + EXTRA + row + 4);
            for (int m = 0; m < 4; m++) {
                int h = m % 2;
                float dl = h == 0 ? dl0 : dl1;
                int shifted = ((h == 0 ? extra : extra1) >>> g) & 1;
                long qs = block + QS + 64L * g + 16 * m + 4 * row;
                int e = out + 32 * g + 16 * h + 4 * (m / 2);
                for (int i = 0; i < 4; i++) {
                    int q = unsignedByte(src, qs + i);
                    dst[e + i] = dl * IqkGrid.IQ4.level(shifted, q & 0x0F);
                    dst[e + i + 8] = dl * IqkGrid.IQ4.level(shifted, q >>> 4);
                }
            }
        }
    }

    /** The 6-bit scale with interleaved index {@code is} (8g + 4h + row). */
    private static int scale(MemorySegment src, long block, int is) {
        int low = (unsignedByte(src, block + SCALES_L + is % 32) >>> (4 * (is / 32))) & 0x0F;
        int high = (unsignedByte(src, block + SCALES_H + is % 16) >>> (2 * (is / 16))) & 3;
        return low | (high << 4);
    }

    @Override
    void repackBlock(MemorySegment rows, long plain, int k, byte[] out) {
        int extra = rows.get(I16_LE, plain + 2) & 0xFFFF;
        for (int g = 0; g < 8; g++) {
            for (int h = 0; h < 2; h++) {
                int s = 2 * g + h;
                out[EXTRA + k + 4 * h] |= (byte) (((extra >>> s) & 1) << g);
                int ls = Iq4KCodec.scale(rows, plain, s);
                int is = 8 * g + 4 * h + k;
                out[SCALES_L + is % 32] |= (byte) ((ls & 0x0F) << (4 * (is / 32)));
                out[SCALES_H + is % 16] |= (byte) ((ls >>> 4) << (2 * (is / 16)));
            }
            // Run m, byte 4k + i: elements 16h + 4(m / 2) + i and that + 8 of the group (see the class comment).
            long qs = plain + Iq4KCodec.QS + 16L * g;
            for (int m = 0; m < 4; m++) {
                int nibble = 4 * (m % 2);
                int first = 4 * (m / 2);
                for (int i = 0; i < 4; i++) {
                    int lo = (unsignedByte(rows, qs + first + i) >>> nibble) & 0x0F;
                    int hi = (unsignedByte(rows, qs + first + i + 8) >>> nibble) & 0x0F;
                    out[QS + 64 * g + 16 * m + 4 * k + i] = (byte) (lo | (hi << 4));
                }
            }
        }
    }
}
