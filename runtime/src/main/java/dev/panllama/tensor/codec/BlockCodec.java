package dev.panllama.tensor.codec;

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

    /**
     * Encodes one row of n values with per-column importance, as llama-quantize does with an
     * importance matrix (ggml's quantize_TYPE with quant_weights): {@code importance[impOff + j]}
     * is the importance of column j. A null importance, or a type whose ggml quantizer takes none
     * (Q8_0 and the float types), gives exactly {@link #quantize}. Some types derive their weights
     * from statistics of the whole row, so n must be the full row length.
     */
    default void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        quantize(src, srcOff, dst, offset, n);
    }

    /** Whether {@link #quantizeRow} uses importance (false: it equals {@link #quantize}). */
    default boolean usesImportance() {
        return false;
    }

    /** Whether {@link #quantize} is implemented. */
    default boolean canQuantize() {
        return false;
    }
}
