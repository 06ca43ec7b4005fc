package dev.panllama.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Scalar conversion between a tensor type's encoded rows and floats: ggml's {@code to_float} and
 * {@code from_float_ref}. These are the reference implementations (the oracle for the fast kernels),
 * written for clarity rather than speed.
 *
 * <p>{@code n} is always a whole number of blocks; for types with per-row metadata (ik_llama.cpp's
 * IQ4_KS and kin) it is a whole row and {@code offset} points at the row's start.
 */
public interface BlockCodec {

    /** Decodes n values stored at {@code src[offset..]} into {@code dst[dstOff, dstOff + n)}. */
    void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n);

    /** Encodes {@code src[srcOff, srcOff + n)} into {@code dst[offset..]}. */
    default void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot quantize");
    }

    /** Whether {@link #quantize} is implemented. */
    default boolean canQuantize() {
        return false;
    }
}
