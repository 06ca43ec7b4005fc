package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;

/**
 * Q8_0_R8 (ik_llama.cpp): eight Q8_0 rows interleaved. Block column b of a group of 8 rows is
 * {@code half d[8]; i8 qs[256]} (ggml-common.h block_q8_0_r8, 272 bytes, as repack_q8_0 builds it
 * without AVX-512's in-memory offset). Row k's element 4·l + i (l, i &lt; 4) is qs[32·l + 4·k + i] and
 * element 16 + 4·l + i is qs[128 + 32·l + 4·k + i]; value = d[k] · q. Quantization is ik_llama.cpp's
 * quantize_q8_0_r8: each row as Q8_0 ({@link Q8_0Codec}), then repacked.
 */
public final class Q8_0R8Codec implements RowGroupCodec {
    public static final Q8_0R8Codec INSTANCE = new Q8_0R8Codec();

    static final int BLOCK_BYTES = 272;
    static final int QS = 16;

    private Q8_0R8Codec() {}

    @Override
    public int rows() { return 8; }

    @Override
    public void dequantizeRow(MemorySegment src, long groupOffset, int row, float[] dst, int dstOff, int n) {
        int nb = blocks("Q8_0_R8", n, 32);
        for (int b = 0; b < nb; b++) {
            long block = groupOffset + (long) b * BLOCK_BYTES;
            float d = half(src, block + 2L * row);
            int out = dstOff + 32 * b;
            for (int l = 0; l < 4; l++) {
                for (int i = 0; i < 4; i++) {
                    long q = block + QS + 32L * l + 4 * row + i;
                    dst[out + 4 * l + i] = d * src.get(ValueLayout.JAVA_BYTE, q);
                    dst[out + 4 * l + i + 16] = d * src.get(ValueLayout.JAVA_BYTE, q + 128);
                }
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int perRow = rowLength(n);
        int nb = blocks("Q8_0_R8", perRow, 32);
        long rowBytes = (long) nb * Q8_0Codec.BLOCK_BYTES;
        MemorySegment rows = MemorySegment.ofArray(new byte[Math.toIntExact(8 * rowBytes)]);
        for (int k = 0; k < 8; k++) Q8_0Codec.INSTANCE.quantize(src, srcOff + k * perRow, rows, k * rowBytes, perRow);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            for (int k = 0; k < 8; k++) {
                long plain = k * rowBytes + (long) b * Q8_0Codec.BLOCK_BYTES;
                MemorySegment.copy(rows, plain, dst, block + 2L * k, 2);
                for (int l = 0; l < 4; l++) {
                    MemorySegment.copy(rows, plain + 2 + 4 * l, dst, block + QS + 32L * l + 4 * k, 4);
                    MemorySegment.copy(rows, plain + 2 + 16 + 4 * l, dst, block + QS + 128 + 32L * l + 4 * k, 4);
                }
            }
        }
    }

    @Override
    public boolean canQuantize() { return true; }
}
