package dev.panllama.model;

import dev.panllama.graph.KvSpan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Evaluates the next tokens of several sessions in one forward pass, as llama.cpp's llama_decode does
 * with a batch of several sequence ids (the server's continuous batching): every weight is read once
 * for all of them, which is what makes N streams cost less than N times one. Each session's tokens go
 * at its own positions of its own KV cache, and attend only to them.
 *
 * <p>A part's logits are those of its last token, when asked for (a prompt chunk that does not end
 * its prompt needs none). One pass at a time, on the model's forward lock; not thread-safe.
 */
public final class BatchDecoder implements AutoCloseable {
    /** The next {@code tokens} of {@code session}; {@code logits}: whether the last one's logits are wanted. */
    public record Part(Session session, int[] tokens, boolean logits) {
        public Part {
            if (tokens.length == 0) throw new IllegalArgumentException("a part without tokens");
        }
    }

    private final ForwardPass pass;
    private final ReentrantLock forwardLock;
    private final int ubatch;
    private final int vocab;

    BatchDecoder(ForwardPass pass, ReentrantLock forwardLock, int ubatch) {
        this.pass = pass;
        this.forwardLock = forwardLock;
        this.ubatch = ubatch;
        this.vocab = pass.config().vocabSize();
    }

    /** The most tokens one {@link #decode} takes, all parts together (-ub). */
    public int maxTokens() { return ubatch; }

    /**
     * Evaluates the parts in one pass and advances each session past its tokens. Returns, per part in
     * order, the logits of its last token, or null where none were asked for.
     */
    public List<float[]> decode(List<Part> parts) {
        if (parts.isEmpty()) throw new IllegalArgumentException("nothing to decode");
        int n = 0, wanted = 0;
        Set<Session> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Part p : parts) {
            Session s = p.session();
            if (!seen.add(s)) throw new IllegalArgumentException("a session appears twice in one batch");
            if (!s.sharesLock(forwardLock)) throw new IllegalArgumentException("a session of another model");
            if (s.position() + p.tokens().length > s.contextLength()) {
                throw new IllegalStateException("context is full: " + s.position() + " + " + p.tokens().length
                        + " tokens exceed the context of " + s.contextLength());
            }
            n += p.tokens().length;
            if (p.logits()) wanted++;
        }
        if (n > ubatch) throw new IllegalArgumentException(n + " tokens exceed the micro-batch of " + ubatch + " (-ub)");
        int[] tokens = new int[n];
        int[] logitRows = new int[wanted];
        List<KvSpan> spans = new ArrayList<>(parts.size());
        int row = 0, w = 0;
        for (Part p : parts) {
            int len = p.tokens().length;
            System.arraycopy(p.tokens(), 0, tokens, row, len);
            spans.add(new KvSpan(p.session().cache(), p.session().position(), row, len));
            row += len;
            if (p.logits()) logitRows[w++] = row - 1;
        }
        float[] logits = new float[Math.multiplyExact(wanted, vocab)];
        forwardLock.lock();
        try {
            pass.forward(new Batch(tokens, 0, n, spans, logitRows, logits));
        } finally {
            forwardLock.unlock();
        }
        List<float[]> out = new ArrayList<>(parts.size());
        w = 0;
        for (Part p : parts) {
            p.session().advance(p.tokens().length);
            out.add(p.logits() ? Arrays.copyOfRange(logits, w * vocab, ++w * vocab) : null);
        }
        return out;
    }

    /** Frees the pass's activation buffers. */
    @Override
    public void close() { pass.close(); }
}
