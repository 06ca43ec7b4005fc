package dev.panllama.model;

/**
 * One micro-batch a forward pass evaluates: tokens {@code tokens[off..off+n)} at positions
 * {@code pos0..pos0+n-1}, whose keys and values go into {@code cache}; the logits of batch tokens
 * {@code logitsFrom..n-1} go into {@code logits} ({@code [n - logitsFrom][vocab]}), none when
 * {@code logitsFrom == n}.
 */
public record Batch(int[] tokens, int off, int n, int pos0, KvCache cache, int logitsFrom, float[] logits) {
    public int logitRows() { return n - logitsFrom; }
}
