package dev.panllama.generate;

import dev.panllama.model.ContextShift;
import dev.panllama.model.KvCacheFile;
import dev.panllama.model.Session;

import java.io.IOException;
import java.nio.file.Path;

import java.util.Arrays;

/**
 * A session that remembers which tokens its KV cache holds, so that a new prompt sharing a prefix with
 * them evaluates only what differs (llama.cpp's prompt cache: a chat's next turn re-sends the whole
 * conversation, and only the new messages cost anything). Not thread-safe, like the session.
 */
public final class CachedSession implements AutoCloseable {
    private final Session session;
    private int[] tokens = new int[256];
    private int reused;

    public CachedSession(Session session) {
        this.session = session;
    }

    public Session session() { return session; }

    public int contextLength() { return session.contextLength(); }

    /** Tokens whose keys and values are in the cache. */
    public int size() { return session.position(); }

    /** A copy of the tokens in the cache. */
    public int[] tokens() { return Arrays.copyOf(tokens, size()); }

    /** How many leading tokens of the last {@link #evaluatePrompt} prompt came from the cache. */
    public int reusedTokens() { return reused; }

    /** Length of the prefix {@code prompt} shares with the cached tokens. */
    public int commonPrefix(int[] prompt) {
        int n = Math.min(size(), prompt.length);
        int i = 0;
        while (i < n && tokens[i] == prompt[i]) i++;
        return i;
    }

    /**
     * Makes the cache hold exactly {@code prompt} and returns the logits of its last token: the shared
     * prefix is kept, the rest of the cache dropped, the remainder evaluated. At least the last token is
     * evaluated, since its logits are needed.
     */
    public float[] evaluatePrompt(int[] prompt) {
        return evaluate(keepPrefixOf(prompt));
    }

    /**
     * Keeps the prefix the cache shares with {@code prompt} (all but its last token at most), drops the
     * rest, and returns the prompt's tokens still to evaluate, at least one.
     */
    public int[] keepPrefixOf(int[] prompt) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty: nothing to evaluate");
        if (prompt.length > contextLength()) {
            throw new IllegalArgumentException("the prompt is " + prompt.length + " tokens, more than the context of " + contextLength());
        }
        reused = Math.min(commonPrefix(prompt), prompt.length - 1);
        session.truncate(reused);
        return Arrays.copyOfRange(prompt, reused, prompt.length);
    }

    /** Evaluates tokens after the cached ones; returns the logits of the last. */
    public float[] evaluate(int... next) {
        int at = size();
        float[] logits;
        try {
            logits = session.evaluate(next);
        } catch (RuntimeException e) {
            session.truncate(at);       // a failed call may have stored some micro-batches: forget them
            throw e;
        }
        remember(at, next);
        return logits;
    }

    /**
     * Records tokens that were evaluated for this session elsewhere (a {@link dev.panllama.model.BatchDecoder}
     * pass, which advanced the session past them).
     */
    public void evaluated(int... tokens) {
        int at = size() - tokens.length;
        if (at < 0) throw new IllegalStateException(tokens.length + " tokens evaluated, but the session holds " + size());
        remember(at, tokens);
    }

    private void remember(int at, int[] next) {
        if (tokens.length < at + next.length) tokens = Arrays.copyOf(tokens, Math.max(at + next.length, tokens.length * 2));
        System.arraycopy(next, 0, tokens, at, next.length);
    }

    /**
     * Makes room in a full cache ({@link ContextShift#apply}): drops half of the tokens after the first
     * {@code kept}; returns how many went (0: none could).
     */
    public int shift(ContextShift shift, int kept) {
        int dropped = shift.apply(session, kept, tokens());
        if (dropped > 0) System.arraycopy(tokens, kept + dropped, tokens, kept, size() - kept);
        return dropped;
    }

    /** Writes the cache (the tokens it holds and their keys and values) to {@code file}. */
    public KvCacheFile.Transfer save(Path file) throws IOException {
        return KvCacheFile.save(session, tokens(), file);
    }

    /** Replaces the cache with one {@link #save}d to {@code file}; returns the tokens it now holds. */
    public int restore(Path file) throws IOException {
        int[] restored = KvCacheFile.restore(session, file);
        remember(0, restored);
        return restored.length;
    }

    /** Forgets every cached token. */
    public void clear() {
        session.clear();
    }

    @Override
    public void close() {
        session.close();
    }
}
