package dev.panllama.cpu;

import java.lang.foreign.MemorySegment;

/**
 * The dot products of one weight type: a weight row (encoded, read straight from the mapped file)
 * against prepared activations. One implementation per type family, chosen by {@link KernelTable}.
 */
interface RowKernel extends WeightKernel {

    @Override
    default int rows() { return 1; }

    /** Dot product of the row at {@code w[rowOff..]} with token {@code t} of {@code a}. */
    float dot(MemorySegment w, long rowOff, Activations a, int t);

    /**
     * Dot products of the row with tokens [0, a.tokens), written to {@code y[t * yStride + yOff]}.
     * Kernels override this when decoding a row once for several tokens pays.
     */
    @Override
    default void dotTokens(MemorySegment w, long rowOff, Activations a, float[] y, int yOff, int yStride) {
        for (int t = 0; t < a.tokens; t++) y[t * yStride + yOff] = dot(w, rowOff, a, t);
    }
}
