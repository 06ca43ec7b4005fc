package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.putByte;
import static dev.panllama.tensor.codec.QuantMath.putHalf;
import static dev.panllama.tensor.codec.QuantMath.roundHalfAwayFromZero;

/**
 * Q8_0: blocks of 32 values as {@code half d; i8 qs[32]} (ggml-common.h block_q8_0); value j is
 * {@code d * qs[j]}. Quantization is ggml's quantize_row_q8_0_ref: d = amax / 127 and each level is
 * {@code roundf(x / d)}.
 */
public final class Q8_0Codec implements BlockCodec {
    public static final Q8_0Codec INSTANCE = new Q8_0Codec();

    static final int BLOCK_SIZE = 32;
    static final int BLOCK_BYTES = 34;

    private Q8_0Codec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("Q8_0", n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            int out = dstOff + b * BLOCK_SIZE;
            float d = half(src, block);
            for (int j = 0; j < BLOCK_SIZE; j++) {
                dst[out + j] = src.get(ValueLayout.JAVA_BYTE, block + 2 + j) * d;
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int nb = blocks("Q8_0", n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            int in = srcOff + b * BLOCK_SIZE;
            long block = offset + (long) b * BLOCK_BYTES;
            float d = absMax(src, in, BLOCK_SIZE) / 127;
            float id = d != 0f ? 1.0f / d : 0f;
            putHalf(dst, block, d);
            for (int j = 0; j < BLOCK_SIZE; j++) {
                putByte(dst, block + 2 + j, roundHalfAwayFromZero(src[in + j] * id));
            }
        }
    }

    @Override
    public boolean canQuantize() { return true; }

    /** ggml's {@code MAX(amax, fabsf(v))} scan (a comparison, so a NaN never wins). */
    static float absMax(float[] src, int from, int count) {
        float amax = 0f;
        for (int j = 0; j < count; j++) {
            float a = Math.abs(src[from + j]);
            amax = amax > a ? amax : a;
        }
        return amax;
    }
}
