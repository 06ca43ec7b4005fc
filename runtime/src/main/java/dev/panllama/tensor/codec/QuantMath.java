package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Helpers the block codecs share: little-endian field access, ggml's two rounding rules, and the
 * whole-block check. Kept bit-exact with ggml-quants.c so that quantized bytes match llama-quantize.
 */
final class QuantMath {
    private QuantMath() {}

    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** 1.5 * 2^23: adding it leaves the rounded integer in the low mantissa bits. */
    private static final float ROUNDING_MAGIC = 12582912f;

    /**
     * ggml's {@code nearest_int}: rounds half to even by letting the float adder round, then reads the
     * integer out of the mantissa. Valid for |x| <= 4194303 (ggml asserts the same range).
     */
    static int nearestInt(float x) {
        int bits = Float.floatToRawIntBits(x + ROUNDING_MAGIC);
        return (bits & 0x007fffff) - 0x00400000;
    }

    /**
     * C's {@code roundf}: half away from zero (Java's Math.round rounds half up, which differs on
     * negative ties). |x| + 0.5 is exact in double for every float below 2^52.
     */
    static int roundHalfAwayFromZero(float x) {
        double r = Math.floor(Math.abs((double) x) + 0.5);
        return (int) Math.copySign(r, x);
    }

    /** The IEEE half at {@code offset}, widened. */
    static float half(MemorySegment src, long offset) {
        return Float.float16ToFloat(src.get(I16_LE, offset));
    }

    /** Stores x as an IEEE half, rounding to nearest even as ggml's FP32_TO_FP16 does. */
    static void putHalf(MemorySegment dst, long offset, float x) {
        dst.set(I16_LE, offset, Float.floatToFloat16(x));
    }

    static int unsignedByte(MemorySegment src, long offset) {
        return src.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    static void putByte(MemorySegment dst, long offset, int value) {
        dst.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
    }

    /** The number of blocks in n values; fails when n is not a whole number of blocks. */
    /** The first of {@code x[from, from + n)} with the largest magnitude, sign kept (0 for none): ggml's max / amax scan. */
    static float largestMagnitude(float[] x, int from, int n) {
        float max = 0f;
        float amax = 0f;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[from + i]);
            if (ax > amax) {
                amax = ax;
                max = x[from + i];
            }
        }
        return max;
    }

    static int blocks(String type, int n, int blockSize) {
        if (n < 0 || n % blockSize != 0) {
            throw new IllegalArgumentException(type + " converts whole blocks of " + blockSize + " values, not " + n);
        }
        return n / blockSize;
    }
}
