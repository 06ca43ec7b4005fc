package dev.panllama.cpu;

import dev.panllama.model.BatchDecoder;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.model.Session;
import dev.panllama.scheduler.PlacementSettings;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Continuous batching's contract: a session's logits do not depend on which other sessions share its
 * passes. Three sequences run alone (prompt, then greedy tokens one by one) and then interleaved in one
 * {@link BatchDecoder}: prompts split into chunks, a prompt chunk beside other sequences' generated
 * tokens, sequences joining and leaving.
 *
 * <p>While a batch stays under the CPU's batched-path threshold (16 tokens) every row takes the same
 * integer-dot kernels as alone, per row, and attention runs span by span over each sequence's own
 * cache: the logits are <b>bit-identical</b>. Past it, the batch's matrix products take the float GEMM
 * (as llama.cpp's change kernels with the batch size): the logits then agree within 0.05
 * (mean |d| <= 0.015): Q4_0's integer path rounds the activations to Q8_0, the GEMM does not.
 */
class BatchDecoderTest {
    private static final int[][] PROMPTS = {{1, 403, 407, 261, 378}, {1, 290, 142, 3}, {1, 76, 106, 445, 9, 330, 31}};
    private static final int GENERATED = 4;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "zoo-llama-Q4_0        | ",
            "zoo-llama-Q4_0        | -ngl 99 -dev CPU_REF",
            "zoo-deepseek2mla-Q4_K | ",
            "zoo-qwen3moe-Q4_K     | -ngl 99 -dev CPU_REF -ot exps=CPU"})
    void interleavedSequencesGetTheLogitsTheyGetAlone(String name, String flags) throws IOException {
        Path file = TestFiles.requireZoo(name + ".gguf");
        PlacementSettings placement = PlacementSettings.CPU_ONLY;
        if (flags != null && flags.contains("CPU_REF")) placement = placement.withGpuLayers(99, "CPU_REF");
        if (flags != null && flags.endsWith("exps=CPU")) placement = placement.withOverrides("exps=CPU");
        try (Model model = Model.load(file, ModelOptions.DEFAULTS.withThreads(2).withContextLength(32).withPlacement(placement))) {
            List<List<float[]>> alone = new ArrayList<>();
            for (int[] p : PROMPTS) alone.add(alone(model, p));
            List<List<float[]>> batched = interleaved(model);
            for (int s = 0; s < PROMPTS.length; s++) {
                for (int step = 0; step <= GENERATED; step++) {
                    float[] x = batched.get(s).get(step), y = alone.get(s).get(step);
                    int diff = Arrays.mismatch(x, y);
                    assertThat(diff).as("first differing logit of sequence %d, step %d: %s", s, step,
                            diff < 0 ? "" : x[diff] + " batched vs " + y[diff] + " alone").isEqualTo(-1);
                }
            }
        }
    }

    /** The prompt's last logits, then those after each greedy token. */
    private static List<float[]> alone(Model model, int[] prompt) {
        List<float[]> out = new ArrayList<>();
        try (Session s = model.newSession()) {
            float[] logits = s.evaluate(prompt);
            out.add(logits);
            for (int i = 0; i < GENERATED; i++) {
                logits = s.evaluate(argmax(logits));
                out.add(logits);
            }
        }
        return out;
    }

    /**
     * Sequence 0 starts alone; sequence 1's prompt joins as 0 generates; sequence 2's prompt arrives in
     * two chunks beside both; each leaves when it has its tokens.
     */
    private static List<List<float[]>> interleaved(Model model) {
        List<List<float[]>> out = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        Session[] s = {model.newSession(), model.newSession(), model.newSession()};
        try (BatchDecoder decoder = model.newBatchDecoder()) {
            int[] p2 = PROMPTS[2];
            int[] starts = {0, 1, 2};
            int[] p2Chunks = {3, p2.length - 3};
            int chunk = 0;
            for (int step = 0; out.stream().anyMatch(l -> l.size() <= GENERATED); step++) {
                List<BatchDecoder.Part> parts = new ArrayList<>();
                List<Integer> who = new ArrayList<>();
                for (int q = 0; q < 3; q++) {
                    List<float[]> got = out.get(q);
                    if (step < starts[q] || got.size() > GENERATED) continue;
                    who.add(q);
                    if (q == 2 && chunk < 2) {
                        int from = chunk == 0 ? 0 : p2Chunks[0];
                        parts.add(new BatchDecoder.Part(s[2], Arrays.copyOfRange(p2, from, from + p2Chunks[chunk]), chunk == 1));
                        chunk++;
                    } else if (got.isEmpty()) {
                        parts.add(new BatchDecoder.Part(s[q], PROMPTS[q], true));
                    } else {
                        parts.add(new BatchDecoder.Part(s[q], new int[]{argmax(got.getLast())}, true));
                    }
                }
                List<float[]> logits = decoder.decode(parts);
                for (int i = 0; i < who.size(); i++) if (logits.get(i) != null) out.get(who.get(i)).add(logits.get(i));
            }
        } finally {
            for (Session x : s) x.close();
        }
        return out;
    }

    @Test
    void aBatchPastTheGemmThresholdAgreesWithinTheKernelsTolerance() throws IOException {
        Path file = TestFiles.requireZoo("zoo-llama-Q4_0.gguf");
        int[] a = {1, 403, 407, 261, 378, 290, 142, 3, 76, 106}, b = {1, 76, 106, 445, 9, 330, 31, 403, 407, 261};
        try (Model model = Model.load(file, ModelOptions.DEFAULTS.withThreads(2).withContextLength(32));
             Session sa = model.newSession(); Session sb = model.newSession(); Session ra = model.newSession(); Session rb = model.newSession();
             BatchDecoder decoder = model.newBatchDecoder()) {
            List<float[]> both = decoder.decode(List.of(new BatchDecoder.Part(sa, a, true), new BatchDecoder.Part(sb, b, true)));
            float[][] alone = {ra.evaluate(a), rb.evaluate(b)};
            for (int i = 0; i < 2; i++) {
                float[] x = both.get(i), y = alone[i];
                double max = 0, sum = 0;
                for (int v = 0; v < x.length; v++) {
                    double d = Math.abs(x[v] - y[v]);
                    max = Math.max(max, d);
                    sum += d;
                }
                System.out.printf("GEMM batch vs alone, sequence %d: max |d| %.4f, mean |d| %.5f%n", i, max, sum / x.length);
                assertThat(max).as("largest |d|, sequence " + i).isLessThanOrEqualTo(0.05);
                assertThat(sum / x.length).as("mean |d|, sequence " + i).isLessThanOrEqualTo(0.015);
                assertThat(argmax(x)).isEqualTo(argmax(y));
            }
            assertThat(sa.position()).isEqualTo(a.length);
        }
    }

    @Test
    void refusesWhatOnePassCannotHold() throws IOException {
        Path file = TestFiles.requireZoo("zoo-llama-Q4_0.gguf");
        try (Model model = Model.load(file, ModelOptions.DEFAULTS.withThreads(1).withContextLength(8).withBatch(4, 4));
             Session s = model.newSession(); Session t = model.newSession(); BatchDecoder decoder = model.newBatchDecoder()) {
            assertThatThrownBy(() -> decoder.decode(List.of(new BatchDecoder.Part(s, new int[]{1, 2, 3}, true),
                    new BatchDecoder.Part(t, new int[]{1, 2}, true)))).hasMessage("5 tokens exceed the micro-batch of 4 (-ub)");
            assertThatThrownBy(() -> decoder.decode(List.of(new BatchDecoder.Part(s, new int[]{1}, true),
                    new BatchDecoder.Part(s, new int[]{2}, true)))).hasMessage("a session appears twice in one batch");
            s.evaluate(1, 2, 3, 4, 5, 6, 7);
            assertThatThrownBy(() -> decoder.decode(List.of(new BatchDecoder.Part(s, new int[]{1, 2}, true))))
                    .hasMessageContaining("context is full: 7 + 2 tokens exceed the context of 8");
            assertThat(s.position()).isEqualTo(7);
        }
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
