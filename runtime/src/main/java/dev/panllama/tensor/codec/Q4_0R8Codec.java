package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * Q4_0_R8 (ik_llama.cpp): eight Q4_0 rows interleaved. Block column b of a group of 8 rows is
 * {@code half d[8]; u8 qs[128]} (iqk_quantize.cpp's block_iq4_nl_r8, 144 bytes, as repack_q4_0 builds
 * it on x86; ARM flips the nibbles' top bits in memory only). Byte qs[32·l + 4·k + i] (l, i &lt; 4) of row
 * k holds element 4·l + i in its low nibble and element 4·l + i + 16 in its high one; value =
 * d[k] · (nibble − 8). Quantization is ik_llama.cpp's quantize_q4_0_r8: each row as Q4_0
 * ({@link LegacyQuantCodec#Q4_0}, whose byte j holds elements j and j + 16 just as here), then repacked.
 */
public final class Q4_0R8Codec implements RowGroupCodec {
    public static final Q4_0R8Codec INSTANCE = new Q4_0R8Codec();

    static final int BLOCK_BYTES = 144;
    static final int QS = 16;

    private Q4_0R8Codec() {}

    @Override
    public int rows() { return 8; }

    @Override
    public void dequantizeRow(MemorySegment src, long groupOffset, int row, float[] dst, int dstOff, int n) {
        int nb = blocks("Q4_0_R8", n, 32);
        for (int b = 0; b < nb; b++) {
            long block = groupOffset + (long) b * BLOCK_BYTES;
            float d = half(src, block + 2L * row);
            int out = dstOff + 32 * b;
            for (int l = 0; l < 4; l++) {
                for (int i = 0; i < 4; i++) {
                    int q = unsignedByte(src, block + QS + 32L * l + 4 * row + i);
                    dst[out + 4 * l + i] = d * ((q & 0x0F) - 8);
                    dst[out + 4 * l + i + 16] = d * ((q >>> 4) - 8);
                }
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int perRow = rowLength(n);
        int nb = blocks("Q4_0_R8", perRow, 32);
        long rowBytes = (long) nb * LegacyQuantCodec.Q4_0.blockBytes;
        MemorySegment rows = MemorySegment.ofArray(new byte[Math.toIntExact(8 * rowBytes)]);
        for (int k = 0; k < 8; k++) LegacyQuantCodec.Q4_0.quantize(src, srcOff + k * perRow, rows, k * rowBytes, perRow);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            for (int k = 0; k < 8; k++) {
                long plain = k * rowBytes + (long) b * LegacyQuantCodec.Q4_0.blockBytes;
                MemorySegment.copy(rows, plain, dst, block + 2L * k, 2);
                for (int l = 0; l < 4; l++) MemorySegment.copy(rows, plain + 2 + 4 * l, dst, block + QS + 32L * l + 4 * k, 4);
            }
        }
    }

    @Override
    public boolean canQuantize() { return true; }
}
