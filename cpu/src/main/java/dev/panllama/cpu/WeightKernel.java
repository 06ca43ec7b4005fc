package dev.panllama.cpu;

import java.lang.foreign.MemorySegment;

/**
 * What {@link CpuKernels} needs of a weight type: dot products and decoding of the unit its rows come
 * in. For most types that is one row ({@link RowKernel}); for ik_llama.cpp's row-interleaved types
 * (see {@link dev.panllama.tensor.codec.RowGroupCodec}) it is a group of {@link #rows()} rows whose blocks
 * are stored together, which one call decodes or dots at once.
 */
interface WeightKernel {

    /** What the activations must be converted to before {@link #dotTokens}. */
    ActivationFormat activation();

    /** Rows one call covers: 1, or the group size of a row-interleaved type (4, 8). */
    int rows();

    /**
     * Dot products of the {@link #rows()} rows at {@code w[off..]} with tokens [0, a.tokens): row i of
     * the unit against token t is written to {@code y[t * yStride + yOff + i]}.
     */
    void dotTokens(MemorySegment w, long off, Activations a, float[] y, int yOff, int yStride);

    /**
     * Decodes k columns of the {@link #rows()} rows at {@code w[off..]} (the batched float path): row i
     * into {@code dst[dstOff + i * k, dstOff + (i + 1) * k)}. {@code off} is the unit's offset plus the
     * bytes of the columns before the first one decoded; vectorized where it matters.
     */
    void dequantize(MemorySegment w, long off, float[] dst, int dstOff, int k);
}
