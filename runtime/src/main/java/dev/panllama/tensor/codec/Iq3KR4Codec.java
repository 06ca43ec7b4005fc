package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ3_K_R4 (ik_llama.cpp): four IQ3_K rows interleaved. Block column b of a group of 4 rows is
 * {@code half d[4]; u8 extra[8]; u8 scales_h[8]; u8 scales_l[32]; u8 qs[256]; u8 qh[128]}
 * (ggml-common.h block_iq3_k_r4, 440 bytes; iqk_quantize.cpp repack_iq3_k). For row k, 32-value group g
 * and half h, with is = 8·g + 4·h + k: the scale is 2·(nibble is / 32 of scales_l[is % 32]) + 1,
 * negated when bit g of scales_h[k + 4·h] is set; bit g of extra[k + 4·h] picks the shifted grid half.
 * Element 16·h + i + 4·j (i, j &lt; 4) takes its low two index bits from bits 2·j of
 * qs[32·g + 16·h + 4·k + i] and its third from bit 4·h + j of qh[16·g + 4·k + i]. Quantization is
 * ik_llama.cpp's quantize_iq3_k_r4: each row as IQ3_K ({@link Iq3KCodec}), then repacked.
 */
public final class Iq3KR4Codec extends InterleavedRowsCodec {
    public static final Iq3KR4Codec INSTANCE = new Iq3KR4Codec();

    static final int EXTRA = 8;
    static final int SCALES_H = 16;
    static final int SCALES_L = 24;
    static final int QS = 56;
    static final int QH = 312;

    private Iq3KR4Codec() {
        super("IQ3_K_R4", 4, 256, 440, Iq3KCodec.INSTANCE, Iq3KCodec.BLOCK_BYTES, true);
    }

    @Override
    void decodeBlock(MemorySegment src, long block, int row, float d, float[] dst, int out) {
        for (int g = 0; g < 8; g++) {
            for (int h = 0; h < 2; h++) {
                int is = 8 * g + 4 * h + row;
                int scale = 2 * ((unsignedByte(src, block + SCALES_L + is % 32) >>> (4 * (is / 32))) & 0x0F) + 1;
                boolean negative = ((unsignedByte(src, block + SCALES_H + row + 4 * h) >>> g) & 1) != 0;
                float dl = d * (negative ? -scale : scale);
                int shifted = (unsignedByte(src, block + EXTRA + row + 4 * h) >>> g) & 1;
                long qs = block + QS + 32L * g + 16 * h + 4 * row;
                long qh = block + QH + 16L * g + 4 * row;
                int e = out + 32 * g + 16 * h;
                for (int i = 0; i < 4; i++) {
                    int low = unsignedByte(src, qs + i);
                    int high = unsignedByte(src, qh + i) >>> (4 * h);
                    for (int j = 0; j < 4; j++) {
                        int q = ((low >>> (2 * j)) & 3) | (((high >>> j) & 1) << 2);
                        dst[e + i + 4 * j] = dl * IqkGrid.IQ3.level(shifted, q);
                    }
                }
            }
        }
    }

    @Override
    void repackBlock(MemorySegment rows, long plain, int k, byte[] out) {
        int extra = rows.get(I16_LE, plain + 2) & 0xFFFF;
        int signs = rows.get(I16_LE, plain + Iq3KCodec.SCALES_H) & 0xFFFF;
        int[] index = new int[32];
        for (int g = 0; g < 8; g++) {
            int scales = unsignedByte(rows, plain + Iq3KCodec.SCALES_L + g);
            long qs = plain + Iq3KCodec.QS + 32L * (g / 4);
            for (int e = 0; e < 32; e++) {
                index[e] = ((unsignedByte(rows, qs + e) >>> (2 * (g % 4))) & 3)
                        | (((unsignedByte(rows, plain + Iq3KCodec.QH + e) >>> g) & 1) << 2);
            }
            for (int h = 0; h < 2; h++) {
                int s = 2 * g + h;
                out[EXTRA + k + 4 * h] |= (byte) (((extra >>> s) & 1) << g);
                out[SCALES_H + k + 4 * h] |= (byte) (((signs >>> s) & 1) << g);
                int is = 8 * g + 4 * h + k;
                out[SCALES_L + is % 32] |= (byte) (((scales >>> (4 * h)) & 0x0F) << (4 * (is / 32)));
                // Element 16h + i + 4j: low bits at bits 2j of qs byte 32g + 16h + 4k + i, third bit at bit 4h + j of qh byte 16g + 4k + i.
                for (int i = 0; i < 4; i++) {
                    int low = 0;
                    int high = 0;
                    for (int j = 0; j < 4; j++) {
                        int q = index[16 * h + i + 4 * j];
                        low |= (q & 3) << (2 * j);
                        high |= (q >>> 2) << (4 * h + j);
                    }
                    out[QS + 32 * g + 16 * h + 4 * k + i] = (byte) low;
                    out[QH + 16 * g + 4 * k + i] |= (byte) high;
                }
            }
        }
    }
}
