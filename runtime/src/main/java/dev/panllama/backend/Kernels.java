package dev.panllama.backend;

import dev.panllama.tensor.Tensor;

/**
 * The operations a transformer forward pass runs, on float activations held in Java arrays laid out
 * token-major ({@code x[t * dim + i]}). Weights are {@link Tensor}s of any type (zero-copy slices of the
 * mapped file); a weight of {@code ne0 = k} columns and {@code rows = n} maps k inputs to n outputs.
 *
 * <p>The default methods are plain scalar Java: they define what each op computes. A backend overrides
 * them with fast versions that must agree within the tolerance its tests state; {@link #matmul} has no
 * default because its reference lives in {@link ReferenceKernels}.
 */
public interface Kernels extends AutoCloseable {

    /** What runs, for logs and benchmarks, e.g. {@code CPU (Vector API 256-bit, 2 threads)}. */
    String description();

    int threads();

    /**
     * {@code y[t*n + r] = sum_j w[r][j] * x[t*k + j]} for {@code r < n}, {@code t < tokens}, where
     * {@code n = rowCount} rows of {@code w} starting at {@code rowStart}.
     */
    void matmul(Tensor w, long rowStart, int rowCount, float[] x, float[] y, int tokens);

    /** matmul over all rows of w. */
    default void matmul(Tensor w, float[] x, float[] y, int tokens) {
        matmul(w, 0, Math.toIntExact(w.rows()), x, y, tokens);
    }

    /**
     * Per-head products (ggml's mul_mat over a 3-D weight, one matrix per attention head): with
     * {@code k = w.rowLength()}, for each token t, head h and {@code r < rows},
     * {@code y[(t*heads + h)*rows + r] = sum_j w[rowStart + h*headStride + r][j] * x[(t*heads + h)*k + j]}.
     */
    default void matmulHeads(Tensor w, long rowStart, long headStride, int rows, int heads, float[] x, float[] y, int tokens) {
        int k = Math.toIntExact(w.rowLength());
        float[] xh = new float[tokens * k];
        float[] yh = new float[tokens * rows];
        for (int h = 0; h < heads; h++) {
            for (int t = 0; t < tokens; t++) System.arraycopy(x, (t * heads + h) * k, xh, t * k, k);
            matmul(w, rowStart + h * headStride, rows, xh, yh, tokens);
            for (int t = 0; t < tokens; t++) System.arraycopy(yh, t * rows, y, (t * heads + h) * rows, rows);
        }
    }

    /**
     * ggml's mul_mat_id: {@code w} stacks matrices of {@code rows} rows each (expert e is rows
     * {@code [e*rows, (e+1)*rows)}), and each pair p < pairs multiplies expert {@code expert[p]} by input
     * vector {@code input[p]} of {@code x} ({@code [inputs][k]}, k = {@code w.rowLength()}):
     * {@code y[p*rows + r] = sum_j w[expert[p]*rows + r][j] * x[input[p]*k + j]}.
     *
     * <p>The default groups the pairs by expert and runs one {@link #matmul} per expert over its inputs, so
     * that each expert's rows stream once per call.
     */
    default void matmulExperts(Tensor w, int rows, int[] expert, int[] input, int pairs, float[] x, int inputs, float[] y) {
        ExpertPairs groups = ExpertPairs.of(w, rows, expert, input, pairs, inputs);
        for (int g = 0; g < groups.groups(); g++) groups.matmulGroup(this, w, rows, g, x, y);
    }

    /** RMS norm of each of {@code tokens} vectors of {@code dim}, times {@code weight}: ggml_rms_norm then mul. */
    default void rmsnorm(float[] x, float[] weight, float[] out, int tokens, int dim, float eps) {
        for (int t = 0; t < tokens; t++) {
            int o = t * dim;
            // ggml sums squares in ggml_float (double) and scales in float.
            double sum = 0;
            for (int i = 0; i < dim; i++) sum += (double) x[o + i] * x[o + i];
            float scale = (float) (1.0 / Math.sqrt((float) (sum / dim) + eps));
            for (int i = 0; i < dim; i++) out[o + i] = x[o + i] * scale * weight[i];
        }
    }

    /**
     * Rotates the first {@code nRot} dims of each head by the angles in {@code cosSin}
     * ({@code [t][nRot]}: cos, sin pairs). Normal mode rotates adjacent pairs (x[2i], x[2i+1]); NeoX mode
     * rotates (x[i], x[i + nRot/2]).
     */
    default void rope(float[] x, int tokens, int heads, int headDim, int nRot, float[] cosSin, boolean neox) {
        for (int t = 0; t < tokens; t++) {
            int cs = t * nRot;
            for (int h = 0; h < heads; h++) {
                int base = (t * heads + h) * headDim;
                for (int i = 0; i < nRot; i += 2) {
                    float c = cosSin[cs + i];
                    float s = cosSin[cs + i + 1];
                    int a = neox ? base + i / 2 : base + i;
                    int b = neox ? base + i / 2 + nRot / 2 : base + i + 1;
                    float x0 = x[a];
                    float x1 = x[b];
                    x[a] = x0 * c - x1 * s;
                    x[b] = x0 * s + x1 * c;
                }
            }
        }
    }

    /** {@code gate[i] = silu(gate[i]) * up[i]}: the SwiGLU of llama's feed-forward. */
    default void swiglu(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1.0f + (float) Math.exp(-g)) * up[i];
        }
    }

    /** {@code x[i] += y[i]}. */
    default void add(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) x[i] += y[i];
    }

    /** Causal attention with grouped-query heads over a KV cache; see {@link AttentionKernel}. */
    default void attention(AttentionKernel.Job job) {
        AttentionKernel.reference(job);
    }

    @Override
    default void close() {}
}
