package dev.panllama.model;

import dev.panllama.tensor.Tensor;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Session#hiddenStates}: the final hidden states are what the output projection turns into the
 * logits. On stories260K (its output matrix is the tied token embedding, F32), every token's hidden
 * state times every vocabulary row must give the logits a plain evaluation returns, to float rounding
 * (|d| <= 1e-4 + 1e-4·|logit|: the same products summed in another order).
 */
class HiddenStatesTest {
    @Test
    void hiddenStatesTimesTheOutputMatrixAreTheLogits() throws Exception {
        try (Model model = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(2).withContextLength(64));
             Session a = model.newSession(); Session b = model.newSession()) {
            int[] tokens = model.tokenizer().encode("Once upon a time, there was a cat", true, false);
            int dim = model.config().embeddingLength();
            int vocab = model.config().vocabSize();
            float[] hidden = a.hiddenStates(tokens);
            float[] logits = b.evaluateAll(tokens);
            assertThat(hidden).hasSize(tokens.length * dim);
            assertThat(a.position()).isEqualTo(tokens.length);

            Tensor out = model.gguf().findTensor("output.weight").orElseGet(() -> model.gguf().tensor("token_embd.weight"));
            float[] row = new float[dim];
            int checked = 0;
            for (int v = 0; v < vocab; v++) {
                out.dequantizeRow(v, row, 0);
                for (int t = 0; t < tokens.length; t++) {
                    double dot = 0;
                    for (int i = 0; i < dim; i++) dot += (double) row[i] * hidden[t * dim + i];
                    float expected = logits[t * vocab + v];
                    assertThat(dot).as("token %d, vocab %d", t, v).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-4 + 1e-4 * Math.abs(expected)));
                    checked++;
                }
            }
            assertThat(checked).isEqualTo(vocab * tokens.length);
        }
    }
}
