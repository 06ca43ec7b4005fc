package dev.panllama.model;

import dev.panllama.scheduler.Schedule;

/**
 * An architecture's forward pass over one micro-batch of consecutive tokens, with the KV cache of a
 * session. An instance keeps its activation buffers between calls and serves one session.
 */
public interface ForwardPass extends AutoCloseable {

    ModelConfig config();

    /**
     * Evaluates {@code n} tokens {@code tokens[off..off+n)} at positions {@code pos0..pos0+n-1}, storing
     * what later tokens attend to in {@code cache}. Writes the logits of tokens {@code logitsFrom..n-1} of
     * the batch into {@code logits} ({@code [n - logitsFrom][vocab]}); none when logitsFrom == n.
     */
    void forward(int[] tokens, int off, int n, int pos0, KvCache cache, int logitsFrom, float[] logits);

    /** Copies between devices made so far (0 when everything runs on one device). */
    int boundaryCopies();

    /** The splits of the last micro-batch, or null before the first. */
    Schedule lastSchedule();

    /** Frees the activation buffers. */
    @Override
    void close();
}
