package dev.panllama.backend;

import dev.panllama.tensor.Tensor;

/**
 * Sees the input of every matrix product a host device runs, as llama.cpp's eval callback lets
 * llama-imatrix see them. One listener at a time, for a tool's whole run; none normally (then the
 * cost is one volatile read per product).
 */
public final class MatmulTap {
    /** Receives a weight and the {@code tokens} input rows it multiplies ({@code [tokens][w.rowLength()]}; the array may be longer). */
    @FunctionalInterface
    public interface Listener {
        void matmul(Tensor weight, float[] input, int tokens);
    }

    private static volatile Listener listener;

    private MatmulTap() {}

    /** Installs {@code l} (null: none); returns the one it replaces. */
    public static Listener set(Listener l) {
        Listener old = listener;
        listener = l;
        return old;
    }

    static void observe(Tensor w, float[] input, int tokens) {
        Listener l = listener;
        if (l != null) l.matmul(w, input, tokens);
    }
}
