package dev.panllama.graph;

import dev.panllama.kv.KvCache;

/**
 * One sequence's part of a batch (llama.cpp's tokens of one seq_id in a llama_batch): batch rows
 * {@code [row0, row0 + tokens)} sit at positions {@code [pos0, pos0 + tokens)} of {@code cache}. A
 * batch of several spans evaluates several sequences in one pass, so each weight is read once for all
 * of them; attention stays within a span's own cache.
 */
public record KvSpan(KvCache cache, int pos0, int row0, int tokens) {
    public KvSpan {
        if (pos0 < 0 || row0 < 0 || tokens < 1) throw new IllegalArgumentException("a span of " + tokens + " tokens at position " + pos0 + ", row " + row0);
        if (pos0 + tokens > cache.contextLength()) {
            throw new IllegalArgumentException("positions [" + pos0 + ", " + (pos0 + tokens) + ") exceed the context of " + cache.contextLength());
        }
    }
}
