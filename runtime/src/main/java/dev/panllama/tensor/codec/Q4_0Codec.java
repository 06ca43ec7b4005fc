package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.putByte;
import static dev.panllama.tensor.codec.QuantMath.putHalf;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * Q4_0: blocks of 32 values as {@code half d; u8 qs[16]} (ggml-common.h block_q4_0). Value j is
 * {@code d * (q - 8)} with q the low nibble of qs[j] for j < 16 and the high nibble of qs[j - 16]
 * otherwise. Quantization is ggml's quantize_row_q4_0_ref, which llama-quantize uses without an
 * imatrix: d is the signed value of largest magnitude over -8, so that value lands exactly on -8.
 */
public final class Q4_0Codec implements BlockCodec {
    public static final Q4_0Codec INSTANCE = new Q4_0Codec();

    static final int BLOCK_SIZE = 32;
    static final int BLOCK_BYTES = 18;

    private Q4_0Codec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("Q4_0", n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            int out = dstOff + b * BLOCK_SIZE;
            float d = half(src, block);
            for (int j = 0; j < 16; j++) {
                int q = unsignedByte(src, block + 2 + j);
                dst[out + j] = ((q & 0x0F) - 8) * d;
                dst[out + j + 16] = ((q >>> 4) - 8) * d;
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int nb = blocks("Q4_0", n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            int in = srcOff + b * BLOCK_SIZE;
            long block = offset + (long) b * BLOCK_BYTES;
            float amax = 0f;
            float max = 0f;
            for (int j = 0; j < BLOCK_SIZE; j++) {
                float v = src[in + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0f ? 1.0f / d : 0f;
            putHalf(dst, block, d);
            for (int j = 0; j < 16; j++) {
                // x * id lies in [-8, 8] up to rounding, so the truncating cast sees [0, 16.5].
                int q0 = Math.min(15, (int) (src[in + j] * id + 8.5f));
                int q1 = Math.min(15, (int) (src[in + j + 16] * id + 8.5f));
                putByte(dst, block + 2 + j, q0 | (q1 << 4));
            }
        }
    }

    /**
     * With importance: ggml's quantize_row_q4_0_impl. Each block's scale comes from the weighted
     * search of make_qx_quants (levels -8..7), the weights mixing importance with the row's mean square.
     */
    @Override
    public void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        if (importance == null) {
            quantize(src, srcOff, dst, offset, n);
            return;
        }
        int nb = blocks("Q4_0", n, BLOCK_SIZE);
        float sigma2 = WeightedQuantMath.sumOfSquares(src, srcOff, n) / n;
        float[] weights = new float[BLOCK_SIZE];
        byte[] levels = new byte[BLOCK_SIZE];
        for (int b = 0; b < nb; b++) {
            int in = srcOff + b * BLOCK_SIZE;
            long block = offset + (long) b * BLOCK_BYTES;
            WeightedQuantMath.fillWeights(weights, src, in, importance, impOff + b * BLOCK_SIZE, BLOCK_SIZE, sigma2);
            putHalf(dst, block, KQuantMath.makeQxQuants(BLOCK_SIZE, 8, src, in, weights, 0, levels, 0));
            for (int j = 0; j < 16; j++) putByte(dst, block + 2 + j, levels[j] | (levels[j + 16] << 4));
        }
    }

    @Override
    public boolean usesImportance() { return true; }

    @Override
    public boolean canQuantize() { return true; }
}
