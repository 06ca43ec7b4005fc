package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
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
public final class Iq3KR4Codec implements RowGroupCodec {
    public static final Iq3KR4Codec INSTANCE = new Iq3KR4Codec();

    static final int BLOCK_BYTES = 440;
    static final int EXTRA = 8;
    static final int SCALES_H = 16;
    static final int SCALES_L = 24;
    static final int QS = 56;
    static final int QH = 312;

    private Iq3KR4Codec() {}

    @Override
    public int rows() { return 4; }

    @Override
    public void dequantizeRow(MemorySegment src, long groupOffset, int row, float[] dst, int dstOff, int n) {
        int nb = blocks("IQ3_K_R4", n, 256);
        for (int b = 0; b < nb; b++) {
            long block = groupOffset + (long) b * BLOCK_BYTES;
            float d = half(src, block + 2L * row);
            for (int g = 0; g < 8; g++) {
                for (int h = 0; h < 2; h++) {
                    int is = 8 * g + 4 * h + row;
                    int scale = 2 * ((unsignedByte(src, block + SCALES_L + is % 32) >>> (4 * (is / 32))) & 0x0F) + 1;
                    boolean negative = ((unsignedByte(src, block + SCALES_H + row + 4 * h) >>> g) & 1) != 0;
                    float dl = d * (negative ? -scale : scale);
                    int shifted = (unsignedByte(src, block + EXTRA + row + 4 * h) >>> g) & 1;
                    long qs = block + QS + 32L * g + 16 * h + 4 * row;
                    long qh = block + QH + 16L * g + 4 * row;
                    int out = dstOff + 256 * b + 32 * g + 16 * h;
                    for (int i = 0; i < 4; i++) {
                        int low = unsignedByte(src, qs + i);
                        int high = unsignedByte(src, qh + i) >>> (4 * h);
                        for (int j = 0; j < 4; j++) {
                            int q = ((low >>> (2 * j)) & 3) | (((high >>> j) & 1) << 2);
                            dst[out + i + 4 * j] = dl * IqkGrid.IQ3.level(shifted, q);
                        }
                    }
                }
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        quantizeRow(src, srcOff, null, 0, dst, offset, n);
    }

    /** The group's four rows as IQ3_K, each with the same per-column importance (null: none), then repacked. */
    @Override
    public void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        int perRow = rowLength(n);
        int nb = blocks("IQ3_K_R4", perRow, 256);
        long rowBytes = (long) nb * Iq3KCodec.BLOCK_BYTES;
        MemorySegment rows = MemorySegment.ofArray(new byte[Math.toIntExact(4 * rowBytes)]);
        for (int k = 0; k < 4; k++) {
            Iq3KCodec.INSTANCE.quantizeRow(src, srcOff + k * perRow, importance, impOff, rows, k * rowBytes, perRow);
        }
        byte[] out = new byte[BLOCK_BYTES];
        int[] index = new int[32];
        for (int b = 0; b < nb; b++) {
            java.util.Arrays.fill(out, (byte) 0);
            for (int k = 0; k < 4; k++) {
                long plain = k * rowBytes + (long) b * Iq3KCodec.BLOCK_BYTES;
                out[2 * k] = rows.get(ValueLayout.JAVA_BYTE, plain);
                out[2 * k + 1] = rows.get(ValueLayout.JAVA_BYTE, plain + 1);
                int extra = rows.get(I16_LE, plain + 2) & 0xFFFF;
                int signs = rows.get(I16_LE, plain + Iq3KCodec.SCALES_H) & 0xFFFF;
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
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, offset + (long) b * BLOCK_BYTES, BLOCK_BYTES);
        }
    }

    @Override
    public boolean usesImportance() { return true; }

    @Override
    public boolean canQuantize() { return true; }
}
