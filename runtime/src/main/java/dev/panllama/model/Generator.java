package dev.panllama.model;

import dev.panllama.sampling.Sampler;
import dev.panllama.tokenizer.Tokenizer;
import dev.panllama.tokenizer.Utf8StreamDecoder;

import java.util.Arrays;

/**
 * Token-by-token generation: evaluate the prompt in batches, then sample, emit and evaluate one token
 * at a time until an end-of-generation token, the token budget or the end of the context (which a
 * {@link ContextShift} pushes back). Text is emitted as complete UTF-8 only (a character split across
 * byte tokens waits for its last byte).
 */
public final class Generator {
    private Generator() {}

    /** Receives each generated token and the text it completes (possibly empty). */
    @FunctionalInterface
    public interface TokenSink {
        void accept(int token, String text);
    }

    public enum Stop { END_OF_GENERATION, TOKEN_LIMIT, CONTEXT_FULL }

    /** Counts and wall times: what the timing line prints. */
    public record Stats(int promptTokens, long promptNanos, int generatedTokens, long generateNanos, Stop stop) {
        public double promptTokensPerSecond() { return promptTokens / Math.max(1e-9, promptNanos / 1e9); }

        public double generateTokensPerSecond() { return generatedTokens / Math.max(1e-9, generateNanos / 1e9); }
    }

    /**
     * @param maxTokens tokens to generate; negative means until end of generation or a full context
     */
    public static Stats generate(Session session, Tokenizer tokenizer, int[] prompt, int maxTokens, Sampler sampler, TokenSink sink) {
        return generate(session, tokenizer, prompt, maxTokens, sampler, ContextShift.DISABLED, sink);
    }

    /** As above, shifting the context when it fills ({@code shift}) rather than stopping. */
    public static Stats generate(Session session, Tokenizer tokenizer, int[] prompt, int maxTokens, Sampler sampler, ContextShift shift,
                                 TokenSink sink) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty (no BOS either): nothing to continue");
        int kept = shift.keptTokens(prompt.length, prompt[0] == tokenizer.bos());
        int[] cached = Arrays.copyOf(prompt, Math.max(16, prompt.length * 2));      // what the cache holds, for a rebuild
        for (int t : prompt) sampler.accept(t);
        long t0 = System.nanoTime();
        float[] logits = session.evaluate(prompt);
        long promptNanos = System.nanoTime() - t0;

        Utf8StreamDecoder text = new Utf8StreamDecoder();
        int vocab = session.vocabSize();
        int generated = 0;
        Stop stop = Stop.TOKEN_LIMIT;
        long g0 = System.nanoTime();
        while (maxTokens < 0 || generated < maxTokens) {
            int token = sampler.sample(logits, vocab);
            if (tokenizer.isEog(token)) {
                stop = Stop.END_OF_GENERATION;
                break;
            }
            sampler.accept(token);
            generated++;
            sink.accept(token, text.accept(tokenizer.tokenToPiece(token, false)));
            if (maxTokens >= 0 && generated == maxTokens) break;
            if (session.position() >= session.contextLength()) {
                int dropped = shift.apply(session, kept, Arrays.copyOf(cached, session.position()));
                if (dropped == 0) {
                    stop = Stop.CONTEXT_FULL;
                    break;
                }
                System.arraycopy(cached, kept + dropped, cached, kept, session.position() - kept);
            }
            int at = session.position();
            if (cached.length <= at) cached = Arrays.copyOf(cached, cached.length * 2);
            cached[at] = token;
            logits = session.evaluate(token);
        }
        String rest = text.flush();
        if (!rest.isEmpty()) sink.accept(-1, rest);
        return new Stats(prompt.length, promptNanos, generated, System.nanoTime() - g0, stop);
    }
}
