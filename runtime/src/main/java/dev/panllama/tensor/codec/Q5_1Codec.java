package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.I32_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.putByte;
import static dev.panllama.tensor.codec.QuantMath.putHalf;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * Q5_1: blocks of 32 values as {@code half d; half m; u8 qh[4]; u8 qs[16]} (ggml-common.h
 * block_q5_1). 5-bit levels are assembled as in Q5_0; value j is {@code d * q + m}. Quantization is
 * ggml's quantize_row_q5_1_ref: m is the block minimum and d spreads [min, max] over 31 steps.
 */
public final class Q5_1Codec implements BlockCodec {
    public static final Q5_1Codec INSTANCE = new Q5_1Codec();

    static final int BLOCK_SIZE = 32;
    static final int BLOCK_BYTES = 24;

    private Q5_1Codec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("Q5_1", n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            int out = dstOff + b * BLOCK_SIZE;
            float d = half(src, block);
            float m = half(src, block + 2);
            int qh = src.get(I32_LE, block + 4);
            for (int j = 0; j < 16; j++) {
                int q = unsignedByte(src, block + 8 + j);
                int q0 = (q & 0x0F) | (((qh >>> j) & 1) << 4);
                int q1 = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
                dst[out + j] = q0 * d + m;
                dst[out + j + 16] = q1 * d + m;
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int nb = blocks("Q5_1", n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            int in = srcOff + b * BLOCK_SIZE;
            long block = offset + (long) b * BLOCK_BYTES;
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < BLOCK_SIZE; j++) {
                float v = src[in + j];
                if (v < min) min = v;
                if (v > max) max = v;
            }
            float d = (max - min) / 31;
            float id = d != 0f ? 1.0f / d : 0f;
            putHalf(dst, block, d);
            putHalf(dst, block + 2, min);
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                // ggml clamps nothing here: (x - min) * id stays within [0, 31] up to rounding.
                int q0 = (int) ((src[in + j] - min) * id + 0.5f);
                int q1 = (int) ((src[in + j + 16] - min) * id + 0.5f);
                putByte(dst, block + 8 + j, (q0 & 0x0F) | ((q1 & 0x0F) << 4));
                qh |= ((q0 >>> 4) & 1) << j;
                qh |= ((q1 >>> 4) & 1) << (j + 16);
            }
            dst.set(I32_LE, block + 4, qh);
        }
    }

    /** With importance: ggml's quantize_row_q5_1_impl, as {@link Q4_1Codec#quantizeRow} with levels 0..31. */
    @Override
    public void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        if (importance == null) {
            quantize(src, srcOff, dst, offset, n);
            return;
        }
        int nb = blocks("Q5_1", n, BLOCK_SIZE);
        float sigma2 = WeightedQuantMath.sumOfSquares(src, srcOff, n) / n;
        float[] weights = new float[BLOCK_SIZE];
        byte[] levels = new byte[BLOCK_SIZE];
        byte[] aux = new byte[BLOCK_SIZE];
        float[] min = new float[1];
        for (int b = 0; b < nb; b++) {
            int in = srcOff + b * BLOCK_SIZE;
            long block = offset + (long) b * BLOCK_BYTES;
            WeightedQuantMath.fillWeights(weights, src, in, importance, impOff + b * BLOCK_SIZE, BLOCK_SIZE, sigma2);
            float d = WeightedQuantMath.makeQkx3Quants(BLOCK_SIZE, 31, src, in, weights, 0, levels, 0, min, 0, aux,
                    -0.9f, 0.05f, 36);
            putHalf(dst, block, d);
            putHalf(dst, block + 2, -min[0]);
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                int q0 = levels[j];
                int q1 = levels[j + 16];
                putByte(dst, block + 8 + j, (q0 & 0x0F) | ((q1 & 0x0F) << 4));
                qh |= ((q0 >>> 4) & 1) << j;
                qh |= ((q1 >>> 4) & 1) << (j + 16);
            }
            dst.set(I32_LE, block + 4, qh);
        }
    }

    @Override
    public boolean usesImportance() { return true; }

    @Override
    public boolean canQuantize() { return true; }
}
