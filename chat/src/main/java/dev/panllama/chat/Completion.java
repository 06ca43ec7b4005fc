package dev.panllama.chat;

import dev.panllama.sampling.Sampler;
import dev.panllama.tokenizer.Tokenizer;
import dev.panllama.tokenizer.Utf8StreamDecoder;

/**
 * One completion: evaluate a prompt (reusing what the session's cache already holds), then sample,
 * stream and evaluate one token at a time until an end-of-generation token, a stop string, the token
 * budget, a full context, or the listener asking to stop. Text is streamed as complete UTF-8 only, and
 * never includes a stop string or any part of one.
 */
public final class Completion {
    private Completion() {}

    /** Receives the text as it is generated (never empty); returns false to cancel the completion. */
    @FunctionalInterface
    public interface Listener {
        boolean onText(String text);
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
     */
    public record Result(String text, int promptTokens, int cachedTokens, int completionTokens, FinishReason finishReason,
                         long promptNanos, long generateNanos) {
        public double generateTokensPerSecond() { return completionTokens / Math.max(1e-9, generateNanos / 1e9); }
    }

    public static Result run(CachedSession session, Tokenizer tokenizer, int[] prompt, CompletionSettings settings, Listener listener) {
        if (prompt.length >= session.contextLength()) {
            throw new IllegalArgumentException("the prompt is " + prompt.length + " tokens; the context of "
                    + session.contextLength() + " leaves no room for a reply");
        }
        Sampler sampler = new Sampler(settings.sampling());
        for (int t : prompt) sampler.accept(t);
        int[] banned = settings.ignoreEos() ? eogTokens(tokenizer, session.session().vocabSize()) : new int[0];

        long t0 = System.nanoTime();
        float[] logits = session.evaluatePrompt(prompt);
        long promptNanos = System.nanoTime() - t0;

        StringBuilder text = new StringBuilder();
        Utf8StreamDecoder utf8 = new Utf8StreamDecoder();
        StopStrings stops = new StopStrings(settings.stop());
        int vocab = session.session().vocabSize();
        int generated = 0;
        FinishReason reason;
        long g0 = System.nanoTime();
        while (true) {
            if (settings.maxTokens() == 0) {
                reason = FinishReason.LENGTH;
                break;
            }
            for (int b : banned) logits[b] = Float.NEGATIVE_INFINITY;
            int token = sampler.sample(logits, vocab);
            if (tokenizer.isEog(token)) {
                reason = FinishReason.STOP;
                break;
            }
            sampler.accept(token);
            generated++;
            String out = stops.offer(utf8.accept(tokenizer.tokenToPiece(token, false)));
            if (!out.isEmpty()) {
                text.append(out);
                if (!listener.onText(out)) {
                    reason = FinishReason.CANCELLED;
                    break;
                }
            }
            if (stops.stopped()) {
                reason = FinishReason.STOP;
                break;
            }
            if (settings.maxTokens() >= 0 && generated == settings.maxTokens()) {     // the last token is not evaluated
                reason = FinishReason.LENGTH;
                break;
            }
            if (session.size() >= session.contextLength()) {     // no room to evaluate the token just emitted
                reason = FinishReason.LENGTH;
                break;
            }
            logits = session.evaluate(token);
        }
        if (reason != FinishReason.CANCELLED) {
            String rest = stops.offer(utf8.flush()) + stops.flush();
            if (!rest.isEmpty()) {
                text.append(rest);
                if (!listener.onText(rest)) reason = FinishReason.CANCELLED;
            }
        }
        return new Result(text.toString(), prompt.length, session.reusedTokens(), generated, reason, promptNanos, System.nanoTime() - g0);
    }

    /** Every end-of-generation token of the vocabulary: what {@code ignore_eos} keeps from being sampled. */
    private static int[] eogTokens(Tokenizer tokenizer, int vocab) {
        int n = Math.min(vocab, tokenizer.vocabSize());
        return java.util.stream.IntStream.range(0, n).filter(tokenizer::isEog).toArray();
    }
}
