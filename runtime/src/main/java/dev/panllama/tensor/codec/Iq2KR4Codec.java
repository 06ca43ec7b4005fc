package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
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

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        quantizeRow(src, srcOff, null, 0, dst, offset, n);
    }

    /** The group's four rows as IQ2_K, each with the same per-column importance (null: none), then repacked. */
    @Override
    public void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        int perRow = rowLength(n);
        int nb = blocks("IQ2_K_R4", perRow, 256);
        long rowBytes = (long) nb * Iq2KCodec.BLOCK_BYTES;
        MemorySegment rows = MemorySegment.ofArray(new byte[Math.toIntExact(4 * rowBytes)]);
        for (int k = 0; k < 4; k++) {
            Iq2KCodec.INSTANCE.quantizeRow(src, srcOff + k * perRow, importance, impOff, rows, k * rowBytes, perRow);
        }
        byte[] out = new byte[BLOCK_BYTES];
        for (int b = 0; b < nb; b++) {
            java.util.Arrays.fill(out, (byte) 0);
            for (int k = 0; k < 4; k++) {
                long plain = k * rowBytes + (long) b * Iq2KCodec.BLOCK_BYTES;
                out[2 * k] = rows.get(ValueLayout.JAVA_BYTE, plain);
                out[2 * k + 1] = rows.get(ValueLayout.JAVA_BYTE, plain + 1);
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
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, offset + (long) b * BLOCK_BYTES, BLOCK_BYTES);
        }
    }

    @Override
    public boolean usesImportance() { return true; }

    @Override
    public boolean canQuantize() { return true; }
}
