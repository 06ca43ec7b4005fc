package dev.panllama.chat;

import dev.panllama.generate.CachedSession;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.testing.GgufCopies;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.stream.IntStream;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Completions on the bundled stories260K, greedy: llama.cpp's golden continuation is the reference text. */
class CompletionTest {
    /** llama-simple's greedy continuation of "Once upon a time" (testdata/golden-llama.cpp-c392e50). */
    static final String GOLDEN = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.";

    static Model model;

    @BeforeAll
    static void load() throws Exception {
        model = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(2).withContextLength(256));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static int[] prompt() {
        return model.tokenizer().encode("Once upon a time", true, false);
    }

    @Test
    void greedyTextIsLlamaCpps() {
        try (CachedSession s = new CachedSession(model.newSession())) {
            List<String> pieces = new ArrayList<>();
            Completion.Result r = Completion.run(s, model.tokenizer(), prompt(), CompletionSettings.of(16, SamplerParams.GREEDY),
                    pieces::add);
            assertThat(r.text()).isEqualTo(GOLDEN.substring(0, ", there was a little girl named Lily. She loved to play".length()));
            assertThat(String.join("", pieces)).isEqualTo(r.text());
            assertThat(r.completionTokens()).isEqualTo(16);
            assertThat(r.promptTokens()).isEqualTo(5);
            assertThat(r.finishReason()).isEqualTo(Completion.FinishReason.LENGTH);
            // The prompt, then every generated token but the last (never evaluated) is in the cache.
            assertThat(s.size()).isEqualTo(5 + 15);
        }
    }

    @Test
    void stopStringEndsTheTextBeforeIt() {
        try (CachedSession s = new CachedSession(model.newSession())) {
            StringBuilder streamed = new StringBuilder();
            Completion.Result r = Completion.run(s, model.tokenizer(), prompt(),
                    new CompletionSettings(64, SamplerParams.GREEDY, List.of(" named", "park"), false), t -> {
                        streamed.append(t);
                        return true;
                    });
            assertThat(r.text()).isEqualTo(", there was a little girl").isEqualTo(streamed.toString());
            assertThat(r.finishReason()).isEqualTo(Completion.FinishReason.STOP);
        }
    }

    @Test
    void theListenerCancels() {
        try (CachedSession s = new CachedSession(model.newSession())) {
            int[] calls = {0};
            Completion.Result r = Completion.run(s, model.tokenizer(), prompt(), CompletionSettings.of(64, SamplerParams.GREEDY),
                    t -> ++calls[0] < 3);
            assertThat(r.finishReason()).isEqualTo(Completion.FinishReason.CANCELLED);
            assertThat(r.completionTokens()).isEqualTo(3);
        }
    }

    /** A second prompt that extends the first evaluates only the new tokens, and gives what a fresh session gives. */
    @Test
    void promptCacheEvaluatesOnlyTheNewTokens() {
        int[] first = prompt();
        int[] longer = model.tokenizer().encode("Once upon a time, there was a dog", true, false);
        try (CachedSession cached = new CachedSession(model.newSession()); CachedSession fresh = new CachedSession(model.newSession())) {
            cached.evaluatePrompt(first);
            float[] reused = cached.evaluatePrompt(longer);
            assertThat(cached.reusedTokens()).isEqualTo(first.length);
            float[] full = fresh.evaluatePrompt(longer);
            assertThat(fresh.reusedTokens()).isZero();
            // Same tokens at the same positions: the logits agree to float rounding (the batch split differs).
            for (int i = 0; i < full.length; i++) assertThat(reused[i]).isCloseTo(full[i], org.assertj.core.data.Offset.offset(1e-4f));
            // The same prompt again: everything but the last token comes from the cache.
            cached.evaluatePrompt(longer);
            assertThat(cached.reusedTokens()).isEqualTo(longer.length - 1);
        }
    }

    /**
     * ignore_eos, on a copy of the model whose EOS token is "." (stories260K itself never ends a story
     * with EOS): greedy stops at the first full stop; with ignore_eos "." is never sampled and the budget is used up.
     */
    @Test
    void ignoreEosRunsToTheBudget(@TempDir Path tmp) throws Exception {
        int period = IntStream.range(0, model.tokenizer().vocabSize()).filter(t -> model.tokenizer().tokenText(t).equals("."))
                .findFirst().orElseThrow();
        Path copy = GgufCopies.withMetadata(TestFiles.stories260K(), tmp.resolve("eos-is-period.gguf"),
                w -> w.putU32("tokenizer.ggml.eos_token_id", period));
        try (Model m = Model.load(copy, ModelOptions.DEFAULTS.withThreads(2).withContextLength(128));
             CachedSession s = new CachedSession(m.newSession())) {
            Completion.Result stopped = Completion.run(s, m.tokenizer(), prompt(), CompletionSettings.of(40, SamplerParams.GREEDY), t -> true);
            assertThat(stopped.text()).isEqualTo(", there was a little girl named Lily");
            assertThat(stopped.finishReason()).isEqualTo(Completion.FinishReason.STOP);

            Completion.Result ignored = Completion.run(s, m.tokenizer(), prompt(),
                    new CompletionSettings(40, SamplerParams.GREEDY, List.of(), true), t -> true);
            assertThat(ignored.completionTokens()).isEqualTo(40);
            assertThat(ignored.finishReason()).isEqualTo(Completion.FinishReason.LENGTH);
            assertThat(ignored.text()).startsWith(", there was a little girl named Lily").doesNotContain(".");
        }
    }

    /** A completion stops when the context is full rather than failing. */
    @Test
    void aFullContextEndsWithLength() throws Exception {
        try (Model small = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(1).withContextLength(16));
             CachedSession s = new CachedSession(small.newSession())) {
            Completion.Result r = Completion.run(s, small.tokenizer(), prompt(), new CompletionSettings(-1, SamplerParams.GREEDY, List.of(), true),
                    t -> true);
            assertThat(r.finishReason()).isEqualTo(Completion.FinishReason.LENGTH);
            assertThat(r.promptTokens() + r.completionTokens()).isEqualTo(17);   // 16 evaluated, one more sampled from the last logits
        }
    }

    /**
     * With a context shift a full context goes on: 60 tokens in a context of 24. Until the first shift
     * the text is the unshifted one; the cache never holds more than the context, and it keeps the BOS
     * token and --keep tokens of the prompt at its start.
     */
    @Test
    void aContextShiftGoesPastAFullContext() throws Exception {
        try (Model small = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(1).withContextLength(24));
             CachedSession s = new CachedSession(small.newSession())) {
            int[] prompt = prompt();
            Completion.Result stopped = Completion.run(s, small.tokenizer(), prompt, CompletionSettings.of(60, SamplerParams.GREEDY), t -> true);
            assertThat(stopped.completionTokens()).isEqualTo(24 - prompt.length + 1);
            s.clear();
            List<Integer> sizes = new ArrayList<>();
            CompletionSettings shifting = CompletionSettings.of(60, SamplerParams.GREEDY).withContextShift(new dev.panllama.model.ContextShift(true, 2));
            Completion.Result r = Completion.run(s, small.tokenizer(), prompt, shifting, t -> {
                sizes.add(s.size());
                return true;
            });
            assertThat(r.completionTokens()).isEqualTo(60);
            assertThat(r.finishReason()).isEqualTo(Completion.FinishReason.LENGTH);
            assertThat(r.text()).startsWith(stopped.text());
            assertThat(sizes).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(24));
            assertThat(s.tokens()).startsWith(prompt[0], prompt[1], prompt[2]);        // BOS + --keep 2
        }
    }

    /**
     * Log probabilities: each generated token's is the log-softmax of the logits it was sampled from
     * (checked against a second session's logits), with the most probable tokens first; greedy picks
     * the first of them. The listener gets every token's entry exactly once, with its text.
     */
    @Test
    void logprobsAreTheModelsLogSoftmax() throws Exception {
        try (CachedSession s = new CachedSession(model.newSession()); dev.panllama.model.Session check = model.newSession()) {
            List<dev.panllama.sampling.TokenLogprob> streamed = new ArrayList<>();
            Completion.Result r = Completion.run(s, model.tokenizer(), prompt(), CompletionSettings.of(12, SamplerParams.GREEDY).withLogprobs(3),
                    new Completion.Listener() {
                        public boolean onText(String text) { return true; }

                        public boolean onText(String text, List<dev.panllama.sampling.TokenLogprob> lps) {
                            streamed.addAll(lps);
                            return true;
                        }
                    });
            assertThat(r.logprobs()).hasSize(12);
            assertThat(streamed).containsExactlyElementsOf(r.logprobs());
            float[] logits = check.evaluate(prompt());
            int vocab = model.config().vocabSize();
            for (int i = 0; i < 12; i++) {
                var lp = r.logprobs().get(i);
                assertThat(lp.token()).isEqualTo(r.tokens()[i]);
                assertThat(lp.topTokens()).hasSize(3);
                assertThat(lp.topTokens()[0]).as("greedy takes the most probable").isEqualTo(lp.token());
                assertThat(lp.topLogprobs()[0]).isEqualTo(lp.logprob());
                assertThat(lp.topLogprobs()[1]).isLessThanOrEqualTo(lp.topLogprobs()[0]);
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int v = 0; v < vocab; v++) max = Math.max(max, logits[v]);
                for (int v = 0; v < vocab; v++) sum += Math.exp(logits[v] - max);
                double expected = logits[lp.token()] - max - Math.log(sum);
                assertThat((double) lp.logprob()).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-4));
                logits = check.evaluate(lp.token());
            }
        }
    }
}
