package dev.panllama.generate;

import dev.panllama.sampling.GrammarConstraint;
import dev.panllama.sampling.Sampler;
import dev.panllama.sampling.TokenLogprob;
import dev.panllama.tokenizer.Tokenizer;
import dev.panllama.tokenizer.Utf8StreamDecoder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * One completion: evaluate a prompt (reusing what the session's cache already holds), then sample,
 * stream and evaluate one token at a time until an end-of-generation token, a stop string, the token
 * budget, a full context (unless the settings shift it), or the listener asking to stop. Text is streamed as complete UTF-8 only, and
 * never includes a stop string or any part of one.
 *
 * <p>The completion itself does not evaluate: it says what to evaluate ({@link #pendingPrompt}, then
 * each {@link #next} token) and takes the logits that come back. {@link #run} evaluates on the
 * session, one completion at a time; the server's decode loop evaluates many completions' tokens in
 * one batch. Either way the same steps make the same text.
 */
public final class Completion {
    /** Receives the text as it is generated (never empty); returns false to cancel the completion. */
    @FunctionalInterface
    public interface Listener {
        boolean onText(String text);

        /**
         * The text with the log probabilities of the tokens it completes, when they were asked for
         * (a token whose text is held back, e.g. a possible stop string, comes with the text that follows).
         */
        default boolean onText(String text, List<TokenLogprob> logprobs) { return onText(text); }
    }

    /** Why a completion ended, named as OpenAI's API names it. */
    public enum FinishReason {
        /** An end-of-generation token or a stop string. */
        STOP("stop"),
        /** The token budget or the context is used up. */
        LENGTH("length"),
        /** The listener asked to stop (e.g. its client went away). */
        CANCELLED("cancelled");

        private final String apiName;

        FinishReason(String apiName) {
            this.apiName = apiName;
        }

        public String apiName() { return apiName; }
    }

    /**
     * @param cachedTokens prompt tokens that came from the session's cache rather than being evaluated
     * @param tokens       the tokens generated (an end-of-generation token that ended it is not one)
     * @param stoppingWord the stop string that ended the text, or null
     * @param logprobs     each generated token's log probabilities, when asked for (else empty)
     */
    public record Result(String text, int promptTokens, int cachedTokens, int completionTokens, FinishReason finishReason,
                         long promptNanos, long generateNanos, int[] tokens, String stoppingWord, List<TokenLogprob> logprobs) {
        public double generateTokensPerSecond() { return completionTokens / Math.max(1e-9, generateNanos / 1e9); }
    }

    /** What {@link #next} returns when the completion has ended. */
    public static final int DONE = -1;

    private final CachedSession session;
    private final Tokenizer tokenizer;
    private final CompletionSettings settings;
    private final Listener listener;
    private final Sampler sampler;
    private final GrammarConstraint grammar;
    private final int[] banned;
    private final int[] pendingPrompt;
    private final int promptTokens;
    private final int cachedTokens;
    private final int keptOnShift;
    private final int vocab;
    private final StringBuilder text = new StringBuilder();
    private final Utf8StreamDecoder utf8 = new Utf8StreamDecoder();
    private final StopStrings stops;
    private final long started = System.nanoTime();
    private long firstLogits;
    private final List<TokenLogprob> logprobs = new ArrayList<>();
    private int logprobsSent;
    private int[] generated = new int[16];
    private int count;
    private Result result;

    /**
     * Starts a completion on {@code session}: keeps the cached prefix it shares with {@code prompt} and
     * drops the rest of the cache. Evaluate {@link #pendingPrompt()} next.
     */
    public Completion(CachedSession session, Tokenizer tokenizer, int[] prompt, CompletionSettings settings, Listener listener) {
        if (prompt.length >= session.contextLength()) {
            throw new IllegalArgumentException("the prompt is " + prompt.length + " tokens; the context of "
                    + session.contextLength() + " leaves no room for a reply");
        }
        this.session = session;
        this.tokenizer = tokenizer;
        this.settings = settings;
        this.listener = listener;
        this.vocab = session.session().vocabSize();
        this.sampler = new Sampler(settings.sampling(), t -> new String(tokenizer.tokenToPiece(t, false), java.nio.charset.StandardCharsets.UTF_8));
        this.grammar = settings.grammar() != null ? new GrammarConstraint(settings.grammar(), tokenizer) : null;
        for (int t : prompt) sampler.accept(t);
        this.banned = settings.ignoreEos() ? eogTokens(tokenizer, vocab) : new int[0];
        this.stops = new StopStrings(settings.stop());
        this.pendingPrompt = session.keepPrefixOf(prompt);
        this.promptTokens = prompt.length;
        this.cachedTokens = prompt.length - pendingPrompt.length;
        this.keptOnShift = settings.contextShift().keptTokens(prompt.length, prompt[0] == tokenizer.bos());
    }

    /** Runs a completion to its end, evaluating on the session itself. */
    public static Result run(CachedSession session, Tokenizer tokenizer, int[] prompt, CompletionSettings settings, Listener listener) {
        Completion c = new Completion(session, tokenizer, prompt, settings, listener);
        int token = c.next(session.evaluate(c.pendingPrompt()));
        while (token != DONE) token = c.next(session.evaluate(token));
        return c.result();
    }

    /** The prompt tokens the cache does not hold (at least the last, whose logits start the reply). */
    public int[] pendingPrompt() { return pendingPrompt.clone(); }

    public CachedSession session() { return session; }

    /** The sampler's seed (drawn at random when the settings asked for -1). */
    public long seed() { return sampler.seed(); }

    /**
     * Takes the logits of the last token evaluated (the prompt's, then each returned token's), samples,
     * streams the text, and returns the token to evaluate next, or {@link #DONE}. The last token sampled
     * is not evaluated: nothing would use its logits.
     */
    public int next(float[] logits) {
        if (result != null) throw new IllegalStateException("the completion has ended");
        if (firstLogits == 0) firstLogits = System.nanoTime();
        if (settings.maxTokens() == 0) return finish(FinishReason.LENGTH);
        float[] raw = settings.logprobs() >= 0 ? logits.clone() : null;      // the model's distribution, before any sampler
        for (int b : banned) logits[b] = Float.NEGATIVE_INFINITY;
        int token = grammar != null ? grammar.sample(sampler, logits, vocab) : sampler.sample(logits, vocab);
        // The grammar allows nothing more (a finished sentence with end-of-generation banned): done.
        if (token == GrammarConstraint.NONE || tokenizer.isEog(token)) return finish(FinishReason.STOP);
        if (grammar != null) grammar.accept(token);
        sampler.accept(token);
        if (count == generated.length) generated = Arrays.copyOf(generated, count * 2);
        generated[count++] = token;
        if (raw != null) logprobs.add(TokenLogprob.of(raw, vocab, token, settings.logprobs()));
        String out = stops.offer(utf8.accept(tokenizer.tokenToPiece(token, settings.specialText())));
        if (!out.isEmpty()) {
            text.append(out);
            if (!emit(out)) return finish(FinishReason.CANCELLED);
        }
        if (stops.stopped()) return finish(FinishReason.STOP);
        if (settings.maxTokens() >= 0 && count == settings.maxTokens()) return finish(FinishReason.LENGTH);
        // No room to evaluate it: shift the context, or stop.
        if (session.size() >= session.contextLength() && session.shift(settings.contextShift(), keptOnShift) == 0) return finish(FinishReason.LENGTH);
        return token;
    }

    /** Ends the completion where it is (its client went away, or its evaluation failed elsewhere). */
    public Result cancel() {
        if (result == null) finish(FinishReason.CANCELLED);
        return result;
    }

    /** True once {@link #next} returned {@link #DONE} or the completion was cancelled. */
    public boolean done() { return result != null; }

    /** How it ended; only once {@link #done}. */
    public Result result() {
        if (result == null) throw new IllegalStateException("the completion has not ended");
        return result;
    }

    private int finish(FinishReason reason) {
        if (reason != FinishReason.CANCELLED) {
            String rest = stops.offer(utf8.flush()) + stops.flush();
            if (!rest.isEmpty()) {
                text.append(rest);
                if (!emit(rest)) reason = FinishReason.CANCELLED;
            }
        }
        long end = System.nanoTime();
        long first = firstLogits == 0 ? end : firstLogits;
        result = new Result(text.toString(), promptTokens, cachedTokens, count, reason, first - started, end - first,
                Arrays.copyOf(generated, count), stops.matched(), List.copyOf(logprobs));
        return DONE;
    }

    /** Hands text to the listener with the log probabilities of the tokens since the last text. */
    private boolean emit(String out) {
        List<TokenLogprob> since = List.copyOf(logprobs.subList(logprobsSent, logprobs.size()));
        logprobsSent = logprobs.size();
        return listener.onText(out, since);
    }

    /** Every end-of-generation token of the vocabulary: what {@code ignore_eos} keeps from being sampled. */
    private static int[] eogTokens(Tokenizer tokenizer, int vocab) {
        int n = Math.min(vocab, tokenizer.vocabSize());
        return IntStream.range(0, n).filter(tokenizer::isEog).toArray();
    }
}
