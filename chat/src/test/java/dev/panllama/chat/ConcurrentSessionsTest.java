package dev.panllama.chat;

import dev.panllama.generate.CachedSession;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sessions of one model on several threads at once (what the server's slots do) generate exactly what
 * they generate one after another: the CPU kernels' shared worker pool and buffers are not corrupted.
 */
class ConcurrentSessionsTest {
    private static final String[] PROMPTS = {"Once upon a time", "Lily and Tom", "The sun was hot", "A little dog",
            "One day, a cat", "Tim had a red ball"};

    @Test
    void concurrentCompletionsEqualSequentialOnes() throws Exception {
        try (Model model = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(2).withContextLength(128))) {
            List<String> sequential = new ArrayList<>();
            for (String p : PROMPTS) sequential.add(complete(model, p));

            ExecutorService pool = Executors.newFixedThreadPool(PROMPTS.length);
            try {
                List<Future<String>> futures = new ArrayList<>();
                for (String p : PROMPTS) futures.add(pool.submit(() -> complete(model, p)));
                for (int i = 0; i < PROMPTS.length; i++) {
                    assertThat(futures.get(i).get(60, TimeUnit.SECONDS)).as(PROMPTS[i]).isEqualTo(sequential.get(i));
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static String complete(Model model, String prompt) {
        try (CachedSession s = new CachedSession(model.newSession())) {
            int[] tokens = model.tokenizer().encode(prompt, true, false);
            return Completion.run(s, model.tokenizer(), tokens, CompletionSettings.of(24, SamplerParams.GREEDY), t -> true).text();
        }
    }
}
