package dev.panllama.graph;

import dev.panllama.tensor.Tensor;

import java.util.List;

/**
 * What a {@link Node} computes. Activations are token-major ({@code x[t * width + i]}); the records hold
 * the weights and sizes, the node holds the values. An op with a weight runs on the device holding it
 * ({@link #placedBy}); the others follow their first input, as ggml-backend-sched assigns them, except
 * the graph's input and output, which are on the host.
 */
public sealed interface Op {

    /**
     * The tensor whose device runs this op, or null: then it runs where its first input was computed
     * off the CPU if any was (as ggml-backend-sched expands accelerator assignments over weightless
     * ops), else where its first input was computed.
     */
    default String placedBy() { return null; }

    /** Whether the op runs where its first input was computed, whatever its other inputs. */
    default boolean followsFirstInput() { return false; }

    /** Whether the op runs on the host device whatever the placement (reading the batch in, the logits out). */
    default boolean onHost() { return false; }

    /** Short name for splits and logs. */
    default String name() {
        String n = getClass().getSimpleName();
        return placedBy() == null ? n : n + "(" + placedBy() + ")";
    }

    /** Rows {@code tokens[off..off+n)} of the embedding table, dequantized: {@code -> x [n][dim]}. */
    record Embed(Tensor table, int[] tokens, int off, int n) implements Op {
        @Override public String placedBy() { return table.name(); }

        /** The batch's rows into {@code x}; a token id outside the table fails, naming it. */
        public void decode(float[] x) {
            int dim = Math.toIntExact(table.rowLength());
            for (int t = 0; t < n; t++) {
                int id = tokens[off + t];
                if (id < 0 || id >= table.rows()) {
                    throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + table.rows());
                }
                table.dequantizeRow(id, x, t * dim);
            }
        }
    }

    /** A host array copied in as a value, e.g. RoPE's angles for the batch's positions: {@code -> x}. */
    record Input(float[] values) implements Op {
        @Override public boolean onHost() { return true; }
    }

    /** RMS norm of {@code rows} vectors of {@code dim}, times the weight: {@code x -> y}. */
    record RmsNorm(String weightName, float[] weight, int rows, int dim, float eps) implements Op {
        @Override public String placedBy() { return weightName; }
    }

    /**
     * {@code x [tokens][k] -> y [tokens][rows]} through all rows of {@code w}, on the device of
     * {@code placedBy} (the weight's name, or {@code output.weight} for an output tied to the embedding).
     */
    record MatMul(Tensor w, int tokens, String placedBy) implements Op {}

    /**
     * Per-head products, one matrix per head (ggml's mul_mat over a 3-D weight): head h uses rows
     * {@code [offset + h*stride, + rows)}: {@code x [tokens][heads][k] -> y [tokens][heads][rows]}. A weight made
     * at load (deepseek2's transposed key rows) runs where the tensor it came from was placed.
     */
    record MatMulHeads(Tensor w, long offset, long stride, int rows, int heads, int tokens, String placedBy) implements Op {}

    /** {@code x [tokens][bias.length] + bias -> x} (in place). */
    record AddBias(String biasName, float[] bias, int tokens) implements Op {
        @Override public String placedBy() { return biasName; }
    }

    /** RoPE of the first {@code nRot} dims of each head: {@code x, angles -> x} (in place). */
    record Rope(int tokens, int heads, int headDim, int nRot, boolean neox) implements Op {}

    /** {@code gate, up -> silu(gate) * up} into the gate's slot. */
    record SwiGlu(int n) implements Op {}

    /** {@code a, b -> a + b}, into the slot of a or of b (in place). */
    record Add(int n) implements Op {}

    /** Columns {@code [off, off+len)} of {@code rows} rows of {@code stride}, packed: {@code src -> dst [rows][len]}. */
    record SliceCols(int rows, int stride, int off, int len) implements Op {}

    /** Rows side by side: {@code a [rows][la], b [rows][lb] -> [rows][la + lb]}. */
    record ConcatCols(int rows, int la, int lb) implements Op {}

    /**
     * Stores the batch's keys and values (values: absent for a latent cache) at their positions, each
     * span's rows in its own cache: {@code k[, v] -> }.
     */
    record KvStore(List<KvSpan> spans, int layer, String placedBy) implements Op {
        public KvStore { spans = List.copyOf(spans); }
    }

    /**
     * Causal attention over the layer's cache, each span's queries over its own cache: {@code q -> out};
     * see {@link dev.panllama.backend.AttentionKernel}.
     */
    record Attention(List<KvSpan> spans, int layer, int nHead, int nHeadKv, int headDimK, int headDimV,
                     float scale, String placedBy) implements Op {
        public Attention { spans = List.copyOf(spans); }

        /** The batch's tokens, all spans together. */
        public int tokens() { return spans.stream().mapToInt(KvSpan::tokens).sum(); }
    }

    /**
     * Top-k routing of each token's router logits: {@code logits [tokens][experts] -> ids [tokens][used],
     * weights [tokens][used]}.
     *
     * @param bias the selection bias (exp_probs_b), or null
     */
    record Route(ExpertRouting routing, float[] bias, int tokens, int experts, int used) implements Op {}

    /**
     * ggml's mul_mat_id: pair p = (token, slot) multiplies expert {@code ids[p]} of the stacked weight by
     * its input, which is token {@code p / used} of x, or, with {@code perPair}, row p of x:
     * {@code x, ids -> y [tokens*used][rows]}.
     */
    record MatMulExperts(Tensor w, int rows, int tokens, int used, boolean perPair) implements Op {
        @Override public String placedBy() { return w.name(); }
    }

    /**
     * Weighted sum of each token's expert outputs, in slot order: {@code y [pairs][dim], weights -> out [tokens][dim]};
     * where the experts' down projection ran, so that only the router's small outputs cross to it.
     */
    record MoeCombine(int tokens, int used, int dim) implements Op {
        @Override public boolean followsFirstInput() { return true; }
    }

    /** Rows {@code rows[0], rows[1], ...} of {@code x [.][dim]}, packed: {@code x -> y [rows.length][dim]}. */
    record TakeRows(int[] rows, int dim) implements Op {
        /** Calls {@code run(from, to, at)} for each run of consecutive rows {@code [from, to)}, which lands at row {@code at} of y. */
        public void forEachRun(RowRun run) {
            for (int i = 0; i < rows.length; ) {
                int j = i + 1;
                while (j < rows.length && rows[j] == rows[j - 1] + 1) j++;
                run.copy(rows[i], rows[j - 1] + 1, i);
                i = j;
            }
        }

        @FunctionalInterface
        public interface RowRun {
            void copy(int from, int to, int at);
        }
    }

    /** Reads the logits out to the caller's array, on the host: {@code x -> }. */
    record Output(float[] logits, int length) implements Op {
        @Override public boolean onHost() { return true; }
    }
}
