package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.I32_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.putByte;
import static dev.panllama.tensor.codec.QuantMath.putHalf;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * Q5_0: blocks of 32 values as {@code half d; u8 qh[4]; u8 qs[16]} (ggml-common.h block_q5_0). The
 * 5-bit level of value j is its nibble (ordered as in Q4_0) plus bit j of the little-endian word qh as
 * bit 4; value j is {@code d * (q - 16)}. Quantization is ggml's quantize_row_q5_0_ref: d is the
 * signed value of largest magnitude over -16.
 */
public final class Q5_0Codec implements BlockCodec {
    public static final Q5_0Codec INSTANCE = new Q5_0Codec();

    static final int BLOCK_SIZE = 32;
    static final int BLOCK_BYTES = 22;

    private Q5_0Codec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("Q5_0", n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            int out = dstOff + b * BLOCK_SIZE;
            float d = half(src, block);
            int qh = src.get(I32_LE, block + 2);
            for (int j = 0; j < 16; j++) {
                int q = unsignedByte(src, block + 6 + j);
                int q0 = (q & 0x0F) | (((qh >>> j) & 1) << 4);
                int q1 = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
                dst[out + j] = (q0 - 16) * d;
                dst[out + j + 16] = (q1 - 16) * d;
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int nb = blocks("Q5_0", n, BLOCK_SIZE);
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
            float d = max / -16;
            float id = d != 0f ? 1.0f / d : 0f;
            putHalf(dst, block, d);
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                // x * id lies in [-16, 16] up to rounding, so the truncating cast sees [0, 32.5].
                int q0 = Math.min(31, (int) (src[in + j] * id + 16.5f));
                int q1 = Math.min(31, (int) (src[in + j + 16] * id + 16.5f));
                putByte(dst, block + 6 + j, (q0 & 0x0F) | ((q1 & 0x0F) << 4));
                qh |= ((q0 >>> 4) & 1) << j;
                qh |= ((q1 >>> 4) & 1) << (j + 16);
            }
            dst.set(I32_LE, block + 2, qh);
        }
    }

    /** With importance: ggml's quantize_row_q5_0_impl, as {@link Q4_0Codec#quantizeRow} with levels -16..15. */
    @Override
    public void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        if (importance == null) {
            quantize(src, srcOff, dst, offset, n);
            return;
        }
        int nb = blocks("Q5_0", n, BLOCK_SIZE);
        float sigma2 = WeightedQuantMath.sumOfSquares(src, srcOff, n) / n;
        float[] weights = new float[BLOCK_SIZE];
        byte[] levels = new byte[BLOCK_SIZE];
        for (int b = 0; b < nb; b++) {
            int in = srcOff + b * BLOCK_SIZE;
            long block = offset + (long) b * BLOCK_BYTES;
            WeightedQuantMath.fillWeights(weights, src, in, importance, impOff + b * BLOCK_SIZE, BLOCK_SIZE, sigma2);
            putHalf(dst, block, KQuantMath.makeQxQuants(BLOCK_SIZE, 16, src, in, weights, 0, levels, 0));
            storeLevels(levels, dst, block);
        }
    }

    /** Levels 0..31: low nibbles in qs (value j and j + 16 share byte j), fifth bits in the word qh. */
    private static void storeLevels(byte[] levels, MemorySegment dst, long block) {
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int q0 = levels[j];
            int q1 = levels[j + 16];
            putByte(dst, block + 6 + j, (q0 & 0x0F) | ((q1 & 0x0F) << 4));
            qh |= ((q0 >>> 4) & 1) << j;
            qh |= ((q1 >>> 4) & 1) << (j + 16);
        }
        dst.set(I32_LE, block + 2, qh);
    }

    @Override
    public boolean usesImportance() { return true; }

    @Override
    public boolean canQuantize() { return true; }
}
