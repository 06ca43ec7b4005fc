package dev.panllama.cli;

import dev.panllama.chat.CachedSession;
import dev.panllama.chat.Completion;
import dev.panllama.chat.CompletionSettings;
import dev.panllama.model.Model;
import dev.panllama.sampling.SamplerParams;

import java.util.List;

/**
 * Runs the model before a server listens (llama.cpp's warm-up at load), so that its first request does
 * not pay for the JIT compiling the kernels: one-token passes (generation's path) and prompt-sized
 * passes (the batched path), repeated for a bounded time since C2 compiles a method only after it ran
 * many times. Nothing stays in any cache: the session is thrown away.
 */
final class Warmup {
    private Warmup() {}

    /** Returns the milliseconds spent. */
    static long run(Model model, long budgetMillis) {
        long t0 = System.nanoTime();
        int vocab = Math.min(model.config().vocabSize(), model.tokenizer().vocabSize());
        int[] longPrompt = prompt(Math.min(32, model.options().ubatch()), vocab);
        int[] shortPrompt = prompt(Math.min(8, longPrompt.length), vocab);
        int generated = 16;
        CompletionSettings settings = new CompletionSettings(generated, SamplerParams.DEFAULTS.withSeed(1), List.of(), true);
        try (CachedSession s = new CachedSession(model.newSession(longPrompt.length + generated + 1))) {
            do {
                // The prompt's two kernel paths (a short prompt takes generation's, a long one the batched one),
                // then sampling and detokenizing as a request does them.
                for (int[] p : new int[][]{shortPrompt, longPrompt}) {
                    s.clear();
                    Completion.run(s, model.tokenizer(), p, settings, text -> true);
                }
            } while ((System.nanoTime() - t0) / 1_000_000 < budgetMillis);
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static int[] prompt(int n, int vocab) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = (i * 7919 + 1) % vocab;
        return p;
    }
}
