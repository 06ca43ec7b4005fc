package dev.panllama.model;

import dev.panllama.testing.LogitsOracle;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The forward pass on the scalar reference kernels (no cpu module on this class path) against
 * llama.cpp's logits for the float zoo models: d_p <= 0.02 at >= 95% of positions, mean <= 0.015
 * (the reference README's criterion for F32/F16/BF16 files).
 */
class ReferenceForwardTest {

    @ParameterizedTest
    @ValueSource(strings = {"zoo-llama-f32", "zoo-llama-F16", "zoo-qwen3-F16", "zoo-moe-F16", "zoo-qwen3moe-F16"})
    void floatZooModelsMatchLlamaCpp(String name) throws IOException {
        Path file = TestFiles.requireZoo(name + ".gguf");
        LogitsOracle oracle = LogitsOracle.zoo(name);
        try (Model model = Model.load(file, ModelOptions.DEFAULTS.withContextLength(64));
             Session s = model.newSession()) {
            assertThat(model.description()).startsWith("scalar reference");
            float[] ours = s.evaluateAll(oracle.tokens());
            LogitsOracle.Comparison cmp = oracle.compare(ours);
            System.out.println(name + " (reference kernels): " + cmp);
            assertThat(cmp.fractionWithin(0.02)).as(name).isGreaterThanOrEqualTo(0.95);
            assertThat(cmp.meanAbs()).as(name).isLessThanOrEqualTo(0.015);
        }
    }
}
