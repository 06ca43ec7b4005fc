package dev.panllama.cpu;

import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.model.Session;
import dev.panllama.testing.LogitsOracle;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The zoo models this runtime's architectures cover, run on the CPU backend (Vector API kernels,
 * found through ServiceLoader), against llama.cpp's logits for the zoo prompt (one batch, 1 thread).
 * Criteria from ../shared/reference/README.md, per position p with d_p = max |ours - ref|:
 * F32/F16/BF16 files d_p <= 0.02 at >= 95% of positions and mean |d| <= 0.015; quantized files
 * d_p <= 0.25 at >= 90% of positions and mean |d| <= 0.04; quantized MoE files: the mean only, since
 * activation noise flips near-tied expert choices.
 */
class ZooLogitsTest {

    @ParameterizedTest
    @ValueSource(strings = {"zoo-llama-f32", "zoo-llama-F16", "zoo-llama-BF16", "zoo-qwen3-F16", "zoo-moe-F16", "zoo-qwen3moe-F16"})
    void floatFiles(String name) throws IOException {
        LogitsOracle.Comparison c = run(name);
        assertThat(c.fractionWithin(0.02)).as(name).isGreaterThanOrEqualTo(0.95);
        assertThat(c.meanAbs()).as(name).isLessThanOrEqualTo(0.015);
    }

    @ParameterizedTest
    @ValueSource(strings = {"zoo-llama-Q8_0", "zoo-llama-Q4_0", "zoo-llama-Q4_1", "zoo-llama-Q5_0", "zoo-llama-Q5_1",
            "zoo-llama-Q2_K", "zoo-llama-Q3_K", "zoo-llama-Q4_K", "zoo-llama-Q5_K", "zoo-llama-Q6_K",
            "zoo-llama-IQ4_NL", "zoo-llama-IQ4_XS", "zoo-qwen3-Q8_0", "zoo-qwen3-Q4_K"})
    void quantizedFiles(String name) throws IOException {
        LogitsOracle.Comparison c = run(name);
        assertThat(c.fractionWithin(0.25)).as(name).isGreaterThanOrEqualTo(0.90);
        assertThat(c.meanAbs()).as(name).isLessThanOrEqualTo(0.04);
    }

    @ParameterizedTest
    @ValueSource(strings = {"zoo-moe-Q4_K", "zoo-qwen3moe-Q4_K"})
    void quantizedMoeFiles(String name) throws IOException {
        LogitsOracle.Comparison c = run(name);
        assertThat(c.meanAbs()).as(name).isLessThanOrEqualTo(0.04);
    }

    private static LogitsOracle.Comparison run(String name) throws IOException {
        Path file = TestFiles.requireZoo(name + ".gguf");
        LogitsOracle oracle = LogitsOracle.zoo(name);
        try (Model model = Model.load(file, ModelOptions.DEFAULTS.withThreads(2).withContextLength(64));
             Session s = model.newSession()) {
            assertThat(model.description()).contains("Vector API");
            LogitsOracle.Comparison c = oracle.compare(s.evaluateAll(oracle.tokens()));
            System.out.println(name + ": " + c);
            return c;
        }
    }
}
