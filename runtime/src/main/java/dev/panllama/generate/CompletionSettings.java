package dev.panllama.generate;

import dev.panllama.model.ContextShift;
import dev.panllama.sampling.Grammar;
import dev.panllama.sampling.SamplerParams;

import java.util.List;

/**
 * What one completion may do: how many tokens (negative: until an end-of-generation token, or a full
 * context unless it shifts), how to sample them, which strings end it (not included in the text),
 * whether to go on past end-of-generation tokens (they are then never sampled, as llama.cpp's
 * {@code ignore_eos}), whether a full context is shifted ({@link ContextShift}) or ends it, and a
 * grammar the text must follow ({@link Grammar}, or null), and how many top log probabilities to report
 * per token (-1: none).
 */
public record CompletionSettings(int maxTokens, SamplerParams sampling, List<String> stop, boolean ignoreEos, ContextShift contextShift,
                                 Grammar grammar, int logprobs, boolean specialText) {
    public CompletionSettings {
        if (logprobs < -1) throw new IllegalArgumentException("logprobs must be -1 (none) or more, not " + logprobs);
        stop = List.copyOf(stop);
        for (String s : stop) if (s.isEmpty()) throw new IllegalArgumentException("a stop string is empty");
    }

    /** Without a context shift (a full context ends the completion) or a grammar. */
    public CompletionSettings(int maxTokens, SamplerParams sampling, List<String> stop, boolean ignoreEos) {
        this(maxTokens, sampling, stop, ignoreEos, ContextShift.DISABLED, null, -1, false);
    }

    public CompletionSettings(int maxTokens, SamplerParams sampling, List<String> stop, boolean ignoreEos, ContextShift contextShift,
                              Grammar grammar, int logprobs) {
        this(maxTokens, sampling, stop, ignoreEos, contextShift, grammar, logprobs, false);
    }

    public CompletionSettings(int maxTokens, SamplerParams sampling, List<String> stop, boolean ignoreEos, ContextShift contextShift) {
        this(maxTokens, sampling, stop, ignoreEos, contextShift, null, -1, false);
    }

    public static CompletionSettings of(int maxTokens, SamplerParams sampling) {
        return new CompletionSettings(maxTokens, sampling, List.of(), false);
    }

    public CompletionSettings withContextShift(ContextShift shift) {
        return new CompletionSettings(maxTokens, sampling, stop, ignoreEos, shift, grammar, logprobs, specialText);
    }

    /** Only text the grammar allows (llama.cpp's --grammar; null: any). */
    public CompletionSettings withGrammar(Grammar g) {
        return new CompletionSettings(maxTokens, sampling, stop, ignoreEos, contextShift, g, logprobs, specialText);
    }

    /** Report each generated token's log probability and those of the {@code top} most probable (-1: none). */
    public CompletionSettings withLogprobs(int top) {
        return new CompletionSettings(maxTokens, sampling, stop, ignoreEos, contextShift, grammar, top, specialText);
    }

    /** Whether special tokens (e.g. a model's tool-call markers) appear in the text, as their own text. */
    public CompletionSettings withSpecialText(boolean special) {
        return new CompletionSettings(maxTokens, sampling, stop, ignoreEos, contextShift, grammar, logprobs, special);
    }
}
