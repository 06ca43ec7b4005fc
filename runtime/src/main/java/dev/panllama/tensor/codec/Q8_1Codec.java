package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.putByte;
import static dev.panllama.tensor.codec.QuantMath.putHalf;
import static dev.panllama.tensor.codec.QuantMath.roundHalfAwayFromZero;

/**
 * Q8_1: blocks of 32 values as {@code half d; half s; i8 qs[32]} (ggml-common.h block_q8_1), where
 * s caches {@code d * sum(qs)} for the dot products of Q4_1/Q5_1. Value j is {@code d * qs[j]} (ggml
 * has no to_float for this activation type; the layout defines it). Quantization is ggml's
 * quantize_row_q8_1_ref: the levels of Q8_0, plus s.
 */
public final class Q8_1Codec implements BlockCodec {
    public static final Q8_1Codec INSTANCE = new Q8_1Codec();

    static final int BLOCK_SIZE = 32;
    static final int BLOCK_BYTES = 36;

    private Q8_1Codec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("Q8_1", n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            int out = dstOff + b * BLOCK_SIZE;
            float d = half(src, block);
            for (int j = 0; j < BLOCK_SIZE; j++) {
                dst[out + j] = src.get(ValueLayout.JAVA_BYTE, block + 4 + j) * d;
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int nb = blocks("Q8_1", n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            int in = srcOff + b * BLOCK_SIZE;
            long block = offset + (long) b * BLOCK_BYTES;
            float d = Q8_0Codec.absMax(src, in, BLOCK_SIZE) / 127;
            float id = d != 0f ? 1.0f / d : 0f;
            putHalf(dst, block, d);
            int sum = 0;
            for (int j = 0; j < BLOCK_SIZE; j++) {
                int q = roundHalfAwayFromZero(src[in + j] * id);
                putByte(dst, block + 4 + j, q);
                sum += q;
            }
            putHalf(dst, block + 2, sum * d);
        }
    }

    @Override
    public boolean canQuantize() { return true; }
}
