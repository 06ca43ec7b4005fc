package dev.panllama.chat;

import dev.panllama.sampling.SamplerParams;

import java.util.List;

/**
 * What one completion may do: how many tokens (negative: until an end-of-generation token or a full
 * context), how to sample them, which strings end it (not included in the text), and whether to go on
 * past end-of-generation tokens (they are then never sampled, as llama.cpp's {@code ignore_eos}).
 */
public record CompletionSettings(int maxTokens, SamplerParams sampling, List<String> stop, boolean ignoreEos) {
    public CompletionSettings {
        stop = List.copyOf(stop);
        for (String s : stop) if (s.isEmpty()) throw new IllegalArgumentException("a stop string is empty");
    }

    public static CompletionSettings of(int maxTokens, SamplerParams sampling) {
        return new CompletionSettings(maxTokens, sampling, List.of(), false);
    }
}
