package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q8_0_R8 (ik_llama.cpp): eight Q8_0 rows interleaved. Block column b of a group of 8 rows is
 * {@code half d[8]; i8 qs[256]} (ggml-common.h block_q8_0_r8, 272 bytes, as repack_q8_0 builds it
 * without AVX-512's in-memory offset). Row k's element 4·l + i (l, i &lt; 4) is qs[32·l + 4·k + i] and
 * element 16 + 4·l + i is qs[128 + 32·l + 4·k + i]; value = d[k] · q. Quantization is ik_llama.cpp's
 * quantize_q8_0_r8: each row as Q8_0 ({@link Q8Codec#Q8_0}), then repacked.
 */
public final class Q8_0R8Codec extends InterleavedRowsCodec {
    public static final Q8_0R8Codec INSTANCE = new Q8_0R8Codec();

    static final int QS = 16;

    private Q8_0R8Codec() {
        super("Q8_0_R8", 8, 32, 272, Q8Codec.Q8_0, Q8Codec.Q8_0.blockBytes, false);
    }

    @Override
    void decodeBlock(MemorySegment src, long block, int row, float d, float[] dst, int out) {
        for (int l = 0; l < 4; l++) {
            for (int i = 0; i < 4; i++) {
                long q = block + QS + 32L * l + 4 * row + i;
                dst[out + 4 * l + i] = d * src.get(ValueLayout.JAVA_BYTE, q);
                dst[out + 4 * l + i + 16] = d * src.get(ValueLayout.JAVA_BYTE, q + 128);
            }
        }
    }

    @Override
    void repackBlock(MemorySegment rows, long plain, int k, byte[] out) {
        for (int l = 0; l < 4; l++) {
            MemorySegment.copy(rows, ValueLayout.JAVA_BYTE, plain + 2 + 4 * l, out, QS + 32 * l + 4 * k, 4);
            MemorySegment.copy(rows, ValueLayout.JAVA_BYTE, plain + 2 + 16 + 4 * l, out, QS + 128 + 32 * l + 4 * k, 4);
        }
    }
}
