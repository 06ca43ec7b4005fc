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
 * The quantized zoo models fed one token at a time, as generation does: every matrix product then
 * takes the integer dot-product path of the dedicated kernels (a whole prompt batch, as in
 * {@link ZooLogitsTest}, takes the dequantize-and-multiply path instead). Same oracle and criteria as
 * ZooLogitsTest's quantized files: d_p <= 0.25 at >= 90% of positions and mean |d| <= 0.04.
 */
class ZooGenerationLogitsTest {

    @ParameterizedTest
    @ValueSource(strings = {"zoo-llama-Q8_0", "zoo-llama-Q4_0", "zoo-llama-Q4_1", "zoo-llama-Q5_0", "zoo-llama-Q5_1",
            "zoo-llama-Q2_K", "zoo-llama-Q3_K", "zoo-llama-Q4_K", "zoo-llama-Q5_K", "zoo-llama-Q6_K",
            "zoo-llama-IQ4_NL", "zoo-llama-IQ4_XS", "zoo-qwen3-Q8_0", "zoo-qwen3-Q4_K"})
    void quantizedFilesTokenByToken(String name) throws IOException {
        Path file = TestFiles.requireShared("reference/zoo/" + name + ".gguf");
        LogitsOracle oracle = LogitsOracle.zoo(name);
        int[] tokens = oracle.tokens();
        try (Model model = Model.load(file, ModelOptions.DEFAULTS.withThreads(2).withContextLength(64));
             Session s = model.newSession()) {
            int vocab = s.vocabSize();
            float[] logits = new float[tokens.length * vocab];
            for (int i = 0; i < tokens.length; i++) {
                System.arraycopy(s.evaluate(tokens[i]), 0, logits, i * vocab, vocab);
            }
            LogitsOracle.Comparison c = oracle.compare(logits);
            System.out.println(name + " token by token: " + c);
            assertThat(c.fractionWithin(0.25)).as(name).isGreaterThanOrEqualTo(0.90);
            assertThat(c.meanAbs()).as(name).isLessThanOrEqualTo(0.04);
        }
    }
}
