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
 * ik_llama.cpp's own quant types (../shared/reference/zoo-ik: zoo-llama-f32.gguf quantized by
 * ik_llama.cpp's {@code llama-quantize --pure}) run on the CPU backend against ik_llama.cpp's logits for
 * the zoo prompt (one batch, 1 thread), both as one batch (the decode-to-float path of the matrix
 * products) and token by token (the integer dot-product kernels). Criterion: the reference README's for
 * quantized files, d_p = max |ours − ref| ≤ 0.25 at ≥ 90% of positions and mean |d| ≤ 0.04.
 */
class IkZooLogitsTest {

    @ParameterizedTest
    @ValueSource(strings = {"IQ2_K", "IQ3_K", "IQ4_K", "IQ5_K", "IQ6_K", "IQ2_KS", "IQ4_KS", "IQ4_KSS",
            "IQ2_K_R4", "IQ3_K_R4", "IQ4_K_R4", "Q4_0_R8", "Q8_0_R8"})
    void logitsMatchIkLlamaCpp(String type) throws IOException {
        String name = "zoo-llama-" + type;
        Path file = TestFiles.requireShared("reference/zoo-ik/" + name + ".gguf");
        LogitsOracle oracle = LogitsOracle.of(TestFiles.requireShared("reference/zoo/logits/prompt.tokens.txt"),
                TestFiles.requireShared("reference/zoo-ik/logits/" + name + ".logits.f32"));
        int[] tokens = oracle.tokens();
        try (Model model = Model.load(file, ModelOptions.DEFAULTS.withThreads(2).withContextLength(64))) {
            assertThat(model.description()).contains("Vector API");
            LogitsOracle.Comparison batch;
            try (Session s = model.newSession()) {
                batch = oracle.compare(s.evaluateAll(tokens));
            }
            LogitsOracle.Comparison stepwise;
            try (Session s = model.newSession()) {
                int vocab = s.vocabSize();
                float[] logits = new float[tokens.length * vocab];
                for (int i = 0; i < tokens.length; i++) System.arraycopy(s.evaluate(tokens[i]), 0, logits, i * vocab, vocab);
                stepwise = oracle.compare(logits);
            }
            System.out.println(name + " batch: " + batch);
            System.out.println(name + " token by token: " + stepwise);
            for (LogitsOracle.Comparison c : new LogitsOracle.Comparison[]{batch, stepwise}) {
                assertThat(c.fractionWithin(0.25)).as(name).isGreaterThanOrEqualTo(0.90);
                assertThat(c.meanAbs()).as(name).isLessThanOrEqualTo(0.04);
            }
        }
    }
}
