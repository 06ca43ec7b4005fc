package dev.panllama.cpu;

import java.lang.foreign.MemorySegment;

/**
 * The dot products of one weight type: a weight row (encoded, read straight from the mapped file)
 * against prepared activations. One implementation per type family, chosen by {@link KernelTable}.
 */
interface RowKernel {

    /** What the activations must be converted to before {@link #dot}. */
    ActivationFormat activation();

    /** Dot product of the row at {@code w[rowOff..]} with token {@code t} of {@code a}. */
    float dot(MemorySegment w, long rowOff, Activations a, int t);

    /**
     * Dot products of the row with tokens [0, a.tokens), written to {@code y[t * yStride + yOff]}.
     * Kernels override this when decoding a row once for several tokens pays.
     */
    default void dotTokens(MemorySegment w, long rowOff, Activations a, float[] y, int yOff, int yStride) {
        for (int t = 0; t < a.tokens; t++) y[t * yStride + yOff] = dot(w, rowOff, a, t);
    }

    /** Decodes a row of k values into {@code dst[dstOff, dstOff + k)} (the batched float path); vectorized where it matters. */
    void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k);
}
