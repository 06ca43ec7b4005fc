package dev.panllama.model;

import dev.panllama.graph.KvSpan;
import dev.panllama.kv.KvCache;
import dev.panllama.scheduler.Schedule;

import java.util.List;
import java.util.stream.IntStream;

import java.util.concurrent.locks.ReentrantLock;

/**
 * One conversation with a model (llama.cpp's llama_context): a KV cache and the position reached.
 * Tokens are evaluated in micro-batches of at most {@code ubatch}; each call continues where the last
 * stopped. Not thread-safe: one session per thread; sessions of one model on different threads take
 * turns on the model's forward lock (see {@link Model}).
 */
public final class Session implements AutoCloseable {
    private final ForwardPass forwardPass;
    private final KvCache cache;
    private final int ubatch;
    private final int vocab;
    private final ReentrantLock forwardLock;
    private final KeyRope keyRope;
    private int position;

    Session(ForwardPass forwardPass, KvCache cache, int ubatch, ReentrantLock forwardLock, KeyRope keyRope) {
        this.keyRope = keyRope;
        this.forwardPass = forwardPass;
        this.cache = cache;
        this.ubatch = ubatch;
        this.forwardLock = forwardLock;
        this.vocab = forwardPass.config().vocabSize();
    }

    /** Positions evaluated so far (the next token goes at this position). */
    public int position() { return position; }

    public int contextLength() { return cache.contextLength(); }

    public KvCache cache() { return cache; }

    public int vocabSize() { return vocab; }

    /** Evaluates tokens after those already seen and returns the logits of the last one. */
    public float[] evaluate(int... tokens) {
        return evaluateFrom(tokens, tokens.length - 1);
    }

    /** Evaluates tokens and returns the logits of every one of them, {@code [n][vocab]} flattened. */
    public float[] evaluateAll(int... tokens) {
        return evaluateFrom(tokens, 0);
    }

    /**
     * Evaluates tokens and returns the logits of tokens {@code first..n-1} ({@code [n - first][vocab]});
     * the output projection runs only for those, e.g. the scored half of a perplexity chunk.
     */
    public float[] evaluateFrom(int[] tokens, int first) {
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens to evaluate");
        if (first < 0 || first > tokens.length) throw new IllegalArgumentException("first " + first + " outside [0, " + tokens.length + "]");
        if (position + tokens.length > cache.contextLength()) {
            throw new IllegalStateException("context is full: " + position + " + " + tokens.length
                    + " tokens exceed the context of " + cache.contextLength() + " (use a larger -c)");
        }
        float[] logits = new float[Math.multiplyExact(tokens.length - first, vocab)];
        float[] chunk = null;
        for (int off = 0; off < tokens.length; off += ubatch) {
            int n = Math.min(ubatch, tokens.length - off);
            int from = Math.clamp(first - off, 0, n);            // first token of this micro-batch that needs logits
            chunk = ensure(chunk, n - from);
            forwardLock.lock();
            try {
                forwardPass.forward(tokens, off, n, position, cache, from, chunk);
            } finally {
                forwardLock.unlock();
            }
            int rows = n - from;
            if (rows > 0) System.arraycopy(chunk, 0, logits, (off + from - first) * vocab, rows * vocab);
            position += n;
        }
        return logits;
    }

    /**
     * Evaluates tokens and returns the final hidden state of each (after the output norm, before the
     * output projection), {@code [n][embedding length]}: llama.cpp's embeddings of a causal model, which
     * poolings then reduce.
     */
    public float[] hiddenStates(int... tokens) {
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens to evaluate");
        if (position + tokens.length > cache.contextLength()) {
            throw new IllegalStateException("context is full: " + position + " + " + tokens.length
                    + " tokens exceed the context of " + cache.contextLength() + " (use a larger -c)");
        }
        int dim = forwardPass.config().embeddingLength();
        float[] out = new float[Math.multiplyExact(tokens.length, dim)];
        for (int off = 0; off < tokens.length; off += ubatch) {
            int n = Math.min(ubatch, tokens.length - off);
            float[] chunk = new float[n * dim];
            forwardLock.lock();
            try {
                forwardPass.forward(new Batch(tokens, off, n, List.of(new KvSpan(cache, position, 0, n)),
                        IntStream.range(0, n).toArray(), chunk, true));
            } finally {
                forwardLock.unlock();
            }
            System.arraycopy(chunk, 0, out, off * dim, n * dim);
            position += n;
        }
        return out;
    }

    private float[] ensure(float[] buf, int rows) {
        int need = rows * vocab;
        return buf != null && buf.length >= need ? buf : new float[Math.max(need, vocab)];
    }

    /** Activation copies made between devices so far (0 when the whole model runs on one device). */
    public int boundaryCopies() { return forwardPass.boundaryCopies(); }

    /** How the last micro-batch was split over the devices, or null before the first ({@code --print-splits}). */
    public Schedule lastSchedule() { return forwardPass.lastSchedule(); }

    /** After a {@link BatchDecoder} evaluated {@code n} tokens of this session. */
    void advance(int n) { position += n; }

    boolean sharesLock(ReentrantLock lock) { return forwardLock == lock; }

    /** After {@link KvCacheFile#restore} filled the cache's first {@code positions} rows: the next token goes after them. */
    void restore(int positions) {
        if (positions < 0 || positions > cache.contextLength()) throw new IllegalArgumentException("cannot restore " + positions + " positions");
        position = positions;
    }

    /**
     * Whether {@link #shift} can re-rotate this session's keys in place: every layer's cache rows are on
     * the host (a device that keeps its cache in its own memory cannot be shifted from here).
     */
    public boolean canShift() { return cache.allOnHost(); }

    /**
     * llama.cpp's context shift: forgets positions [keep, keep + discard) and moves the later ones down
     * by {@code discard}, their keys re-rotated to their new positions; the next token then goes at
     * {@code position() - discard}.
     */
    public void shift(int keep, int discard) {
        cache.shift(keep, discard, position, keyRope);
        position -= discard;
    }

    /** Forgets everything: the next token goes at position 0. */
    public void clear() { position = 0; }

    /** Keeps positions [0, pos) and forgets the rest (e.g. to regenerate from a point). */
    public void truncate(int pos) {
        if (pos < 0 || pos > position) throw new IllegalArgumentException("cannot truncate to " + pos + " at position " + position);
        position = pos;
    }

    @Override
    public void close() {
        forwardPass.close();
        cache.close();
    }
}
