package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.putHalf;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ4_NL: blocks of 32 values as {@code half d; u8 qs[16]} (ggml-common.h block_iq4_nl); value j is
 * {@code d * LEVELS[nibble]} with nibbles ordered as in Q4_0 and the non-linear levels of
 * {@link Iq4Grid}. Quantization follows llama-quantize without an imatrix (ggml's quantize_iq4_nl,
 * which searches 15 scales per block; quantize_row_iq4_nl_ref, which does not search, is not what
 * model files are made with).
 */
public final class Iq4NlCodec implements BlockCodec {
    public static final Iq4NlCodec INSTANCE = new Iq4NlCodec();

    static final int BLOCK_SIZE = 32;
    static final int BLOCK_BYTES = 18;

    private Iq4NlCodec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("IQ4_NL", n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            int out = dstOff + b * BLOCK_SIZE;
            float d = half(src, block);
            for (int j = 0; j < 16; j++) {
                int q = unsignedByte(src, block + 2 + j);
                dst[out + j] = d * Iq4Grid.LEVELS[q & 0x0F];
                dst[out + j + 16] = d * Iq4Grid.LEVELS[q >>> 4];
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        quantizeRow(src, srcOff, null, 0, dst, offset, n);
    }

    /** With importance, ggml's weights mix it with each block's own mean square (a "super-block" of 32). */
    @Override
    public void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        int nb = blocks("IQ4_NL", n, BLOCK_SIZE);
        float[] weights = new float[BLOCK_SIZE];
        for (int b = 0; b < nb; b++) {
            int in = srcOff + b * BLOCK_SIZE;
            long block = offset + (long) b * BLOCK_BYTES;
            float sigma2 = importance != null ? Iq4Grid.sigma2(src, in, BLOCK_SIZE) : 0f;
            float d = Iq4Grid.fitScale(src, in, importance, impOff + b * BLOCK_SIZE, sigma2, weights);
            putHalf(dst, block, d);
            // An all-zero block gets d = 0 and inverse 0, so every nibble selects the level nearest 0.
            Iq4Grid.packNibbles(src, in, d != 0f ? 1 / d : 0f, dst, block + 2);
        }
    }

    @Override
    public boolean usesImportance() { return true; }

    @Override
    public boolean canQuantize() { return true; }
}
