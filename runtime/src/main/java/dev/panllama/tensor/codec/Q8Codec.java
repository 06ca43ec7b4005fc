package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.putByte;
import static dev.panllama.tensor.codec.QuantMath.putHalf;
import static dev.panllama.tensor.codec.QuantMath.roundHalfAwayFromZero;

/**
 * Q8_0 and Q8_1: blocks of 32 values as {@code half d; i8 qs[32]} (ggml-common.h block_q8_0) and
 * {@code half d; half s; i8 qs[32]} (block_q8_1, where s caches {@code d * sum(qs)} for the dot
 * products of Q4_1 and Q5_1). Value j is {@code d * qs[j]} (ggml has no to_float for Q8_1, an
 * activation type; the layout defines it). Quantization is ggml's quantize_row_q8_0_ref /
 * quantize_row_q8_1_ref: d = amax / 127 and each level is {@code roundf(x / d)}; Q8_1 adds s.
 */
public final class Q8Codec implements BlockCodec {
    public static final Q8Codec Q8_0 = new Q8Codec("Q8_0", false);
    public static final Q8Codec Q8_1 = new Q8Codec("Q8_1", true);

    static final int BLOCK_SIZE = 32;

    private final String name;
    private final boolean withSum;
    private final int qsOffset;
    final int blockBytes;

    private Q8Codec(String name, boolean withSum) {
        this.name = name;
        this.withSum = withSum;
        this.qsOffset = withSum ? 4 : 2;
        this.blockBytes = qsOffset + BLOCK_SIZE;
    }

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks(name, n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * blockBytes;
            int out = dstOff + b * BLOCK_SIZE;
            float d = half(src, block);
            for (int j = 0; j < BLOCK_SIZE; j++) {
                dst[out + j] = src.get(ValueLayout.JAVA_BYTE, block + qsOffset + j) * d;
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int nb = blocks(name, n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            int in = srcOff + b * BLOCK_SIZE;
            long block = offset + (long) b * blockBytes;
            float d = absMax(src, in, BLOCK_SIZE) / 127;
            float id = d != 0f ? 1.0f / d : 0f;
            putHalf(dst, block, d);
            int sum = 0;
            for (int j = 0; j < BLOCK_SIZE; j++) {
                int q = roundHalfAwayFromZero(src[in + j] * id);
                putByte(dst, block + qsOffset + j, q);
                sum += q;
            }
            if (withSum) putHalf(dst, block + 2, sum * d);
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
