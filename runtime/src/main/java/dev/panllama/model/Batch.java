package dev.panllama.model;

import dev.panllama.graph.KvSpan;

import dev.panllama.kv.KvCache;
import java.util.List;
import java.util.stream.IntStream;

/**
 * One micro-batch a forward pass evaluates (llama.cpp's llama_ubatch): tokens {@code tokens[off..off+n)},
 * cut into {@linkplain KvSpan spans} of one sequence each, which together cover the batch rows in order.
 * The logits of batch rows {@code logitRows} (ascending) go into {@code logits}
 * ({@code [logitRows.length][vocab]}); none when it is empty. With {@code hidden}, those rows' final
 * hidden states (after the output norm, before the output projection: llama.cpp's embeddings) go there
 * instead, {@code [logitRows.length][embedding length]}.
 */
public record Batch(int[] tokens, int off, int n, List<KvSpan> spans, int[] logitRows, float[] logits, boolean hidden) {
    public Batch(int[] tokens, int off, int n, List<KvSpan> spans, int[] logitRows, float[] logits) {
        this(tokens, off, n, spans, logitRows, logits, false);
    }

    public Batch {
        spans = List.copyOf(spans);
        int row = 0;
        for (KvSpan s : spans) {
            if (s.row0() != row) throw new IllegalArgumentException("a span starts at batch row " + s.row0() + ", not " + row);
            row += s.tokens();
        }
        if (row != n) throw new IllegalArgumentException("the spans cover " + row + " of the batch's " + n + " rows");
        for (int i = 0; i < logitRows.length; i++) {
            if (logitRows[i] < 0 || logitRows[i] >= n || (i > 0 && logitRows[i] <= logitRows[i - 1])) {
                throw new IllegalArgumentException("logit rows must ascend within [0, " + n + ")");
            }
        }
    }

    /** One sequence's tokens at positions {@code pos0..}, with the logits of batch rows {@code logitsFrom..n-1}. */
    public static Batch single(int[] tokens, int off, int n, int pos0, KvCache cache, int logitsFrom, float[] logits) {
        return new Batch(tokens, off, n, List.of(new KvSpan(cache, pos0, 0, n)), IntStream.range(logitsFrom, n).toArray(), logits);
    }

    public int logitRowCount() { return logitRows.length; }

    /** Whether the logits wanted are those of every row. */
    boolean logitsOfAllRows() { return logitRows.length == n; }
}
