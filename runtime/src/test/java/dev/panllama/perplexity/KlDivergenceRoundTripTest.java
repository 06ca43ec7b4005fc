package dev.panllama.perplexity;

import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.testing.TestFiles;
import dev.panllama.util.ProgressListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * stories260K writes its log-probabilities while computing perplexity, reads them back, and compares
 * itself with them: the file holds the text's tokens and the log-softmax of the logits to half a
 * rounding step, and the model's KL divergence from itself is zero up to that rounding.
 */
class KlDivergenceRoundTripTest {

    @Test
    void baseFileRoundTripsAndTheModelMatchesItself(@TempDir Path dir) throws Exception {
        int ctx = 128;
        int chunks = 3;
        Path file = dir.resolve("stories260K.kld");
        try (Model model = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS)) {
            String text = Files.readString(TestFiles.bundled("text/tinystories_sample.txt"), StandardCharsets.UTF_8);
            int[] tokens = Arrays.copyOf(model.tokenizer().encode(text, true, false), ctx * chunks);
            int bos = model.tokenizer().bos();
            int vocab = model.config().vocabSize();
            List<float[]> chunkLogits = new ArrayList<>();
            Perplexity.Result ppl;
            try (LogProbFile.Writer w = new LogProbFile.Writer(file, ctx, vocab, tokens)) {
                ppl = Perplexity.compute(model, tokens, ctx, bos, (c, p) -> {}, ProgressListener.NONE, logits -> {
                    chunkLogits.add(logits.clone());
                    w.writeChunk(logits);
                });
            }

            try (LogProbFile.Reader r = new LogProbFile.Reader(file)) {
                assertThat(r.tokens()).containsExactly(tokens);
                assertThat(r.contextSize()).isEqualTo(ctx);
                assertThat(r.vocabSize()).isEqualTo(vocab);
                float[] decoded = new float[vocab];
                double baseNll = 0;
                double maxHalfStep = 0;
                for (int c = 0; c < chunks; c++) {
                    ByteBuffer rows = r.readChunk(c);
                    for (int row = 0; row < LogProbFile.scoredPerChunk(ctx); row++) {
                        r.decodeRow(rows, row, decoded);
                        double[] exact = LogProbFileTest.logSoftmax(chunkLogits.get(c), row * vocab, vocab);
                        double top = Arrays.stream(exact).max().orElseThrow();
                        int next = tokens[c * ctx + ctx / 2 + row + 1];
                        double floor = Math.max(LogProbFile.FLOOR, top - exact[next]);
                        double halfStep = floor / 65535 / 2;
                        maxHalfStep = Math.max(maxHalfStep, halfStep);
                        for (int i = 0; i < vocab; i++) {
                            if (exact[i] > top - floor) assertThat((double) decoded[i]).isCloseTo(exact[i], within(halfStep + 1e-5));
                        }
                        assertThat((double) decoded[next]).isCloseTo(exact[next], within(halfStep + 1e-5));
                        baseNll -= exact[next];
                    }
                }

                KlDivergence kld = KlDivergence.compute(model, r, bos, 0, k -> {}, ProgressListener.NONE);
                System.out.printf("stories260K against itself: KLD %.3g +/- %.3g, same top %.4f, PPL %.4f vs base %.4f (perplexity %.4f)%n",
                        kld.kld().value(), kld.kld().error(), kld.sameTop().value(), kld.ppl().value(), kld.basePpl().value(), ppl.ppl());
                assertThat(kld.count()).isEqualTo(chunks * LogProbFile.scoredPerChunk(ctx));
                assertThat(Math.abs(kld.kld().value())).isLessThan(maxHalfStep);
                assertThat(kld.sameTop().value()).isEqualTo(1.0);
                // Same logits, single- vs double-precision log-softmax: 1e-5 relative.
                assertThat(kld.ppl().value()).isCloseTo(ppl.ppl(), within(1e-5 * ppl.ppl()));
                // The base's next-token log-probabilities carry the rows' rounding, at most half a step each.
                double expectedBase = Math.exp(baseNll / kld.count());
                assertThat(kld.basePpl().value()).isCloseTo(expectedBase, within(maxHalfStep * expectedBase));
                assertThat(kld.basePpl().value()).isCloseTo(ppl.ppl(), within(maxHalfStep * ppl.ppl()));
            }
        }
    }
}
