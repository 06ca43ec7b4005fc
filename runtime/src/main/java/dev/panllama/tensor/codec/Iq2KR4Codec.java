package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ2_K_R4 (ik_llama.cpp): four IQ2_K rows interleaved. Block column b of a group of 4 rows is
 * {@code half d[4]; u8 extra[8]; u8 scales[32]; u8 qs[256]} (ggml-common.h block_iq2_k_r4, 304 bytes),
 * as iqk_quantize.cpp's repack_iq2_k builds it. For row k and 32-value group g, half h (elements
 * 16·h..16·h+15) has the 4-bit scale nibble is / 32 of scales[is % 32] with is = 8·g + 4·h + k, minus 8,
 * and bit g of extra[k + 4·h] picks the shifted grid half; byte qs[32·g + 16·h + 4·k + i] (i &lt; 4) holds
 * the 2-bit indices of elements 16·h + i + 4·j at bits 2·j. Quantization is ik_llama.cpp's
 * quantize_iq2_k_r4: each row as IQ2_K ({@link Iq2KCodec}), then repacked.
 */
public final class Iq2KR4Codec extends InterleavedRowsCodec {
    public static final Iq2KR4Codec INSTANCE = new Iq2KR4Codec();

    static final int EXTRA = 8;
    static final int SCALES = 16;
    static final int QS = 48;

    private Iq2KR4Codec() {
        super("IQ2_K_R4", 4, 256, 304, Iq2KCodec.INSTANCE, Iq2KCodec.BLOCK_BYTES, true);
    }

    @Override
    void decodeBlock(MemorySegment src, long block, int row, float d, float[] dst, int out) {
        for (int g = 0; g < 8; g++) {
            for (int h = 0; h < 2; h++) {
                int is = 8 * g + 4 * h + row;
                float dl = d * (((unsignedByte(src, block + SCALES + is % 32) >>> (4 * (is / 32))) & 0x0F) - 8);
                int shifted = (unsignedByte(src, block + EXTRA + row + 4 * h) >>> g) & 1;
                long qs = block + QS + 32L * g + 16 * h + 4 * row;
                int e = out + 32 * g + 16 * h;
                for (int i = 0; i < 4; i++) {
                    int q = unsignedByte(src, qs + i);
                    for (int j = 0; j < 4; j++) dst[e + i + 4 * j] = dl * IqkGrid.IQ2.level(shifted, (q >>> (2 * j)) & 3);
                }
            }
        }
    }

    @Override
    void repackBlock(MemorySegment rows, long plain, int k, byte[] out) {
        int extra = rows.get(I16_LE, plain + 2) & 0xFFFF;
        for (int g = 0; g < 8; g++) {
            int scales = unsignedByte(rows, plain + Iq2KCodec.SCALES + g);
            long qs = plain + Iq2KCodec.QS + 32L * (g / 4);
            int shift = 2 * (g % 4);
            for (int h = 0; h < 2; h++) {
                out[EXTRA + k + 4 * h] |= (byte) (((extra >>> (2 * g + h)) & 1) << g);
                int is = 8 * g + 4 * h + k;
                out[SCALES + is % 32] |= (byte) (((scales >>> (4 * h)) & 0x0F) << (4 * (is / 32)));
                // Byte 32g + 16h + 4k + i holds elements 16h + i + 4j of the group at bits 2j.
                for (int i = 0; i < 4; i++) {
                    int packed = 0;
                    for (int j = 0; j < 4; j++) {
                        packed |= ((unsignedByte(rows, qs + 16 * h + i + 4 * j) >>> shift) & 3) << (2 * j);
                    }
                    out[QS + 32 * g + 16 * h + 4 * k + i] = (byte) packed;
                }
            }
        }
    }
}
