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

    /*
     * dotTokens (from WeightKernel) has no default here on purpose: every kernel class writes its own
     * token loop around its own dot. A loop shared by several classes would see several receivers at
     * its dot call site, and C2 would inline two kernels' dots into one compilation; past its inlining
     * budget it then leaves our vector helpers out of line, boxing their vectors: a model run after a
     * model of another type (or a file mixing two types) generated ten times slower.
     */
}
