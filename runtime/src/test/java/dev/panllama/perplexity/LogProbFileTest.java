package dev.panllama.perplexity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** llama-perplexity's --kl-divergence-base file: layout, round trip, damaged files. */
class LogProbFileTest {

    /** A row worked out by hand: logits {2, 0, -30}, next token 1, top 2, floor 2 - 24 = -22, one padding uint16. */
    @Test
    void rowLayoutIsLlamaPerplexitys() {
        ByteBuffer row = ByteBuffer.allocate(2 * LogProbFile.rowShorts(3)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(LogProbFile.rowShorts(3)).isEqualTo(8);    // 2 floats + 3 values + 1 pad
        LogProbFile.encodeRow(new float[]{2, 0, -30}, 0, 3, 1, row);
        assertThat(row.position()).isEqualTo(16);
        float logSumExp = (float) Math.log((float) Math.exp(0) + (float) Math.exp(-2) + (float) Math.exp(-32));
        assertThat(row.getFloat(0)).isEqualTo(24f / 65535f);
        assertThat(row.getFloat(4)).isEqualTo(-22f - 2f - logSumExp);
        assertThat(Short.toUnsignedInt(row.getShort(8))).isEqualTo(65535);
        assertThat(Short.toUnsignedInt(row.getShort(10))).isEqualTo(60074);    // 22 * 65535 / 24 = 60073.75
        assertThat(row.getShort(12)).isZero();                                  // below the floor
        assertThat(row.getShort(14)).isZero();                                  // padding
    }

    /** When the next token lies below the floor, the floor moves down to it: its log-probability is exact. */
    @Test
    void theNextTokenIsNeverClampedToTheFloor() {
        ByteBuffer row = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        LogProbFile.encodeRow(new float[]{2, 0, -30}, 0, 3, 2, row);
        float logSumExp = (float) Math.log((float) Math.exp(0) + (float) Math.exp(-2) + (float) Math.exp(-32));
        assertThat(row.getFloat(0)).isEqualTo(32f / 65535f);
        assertThat(row.getFloat(4)).isEqualTo(-30f - 2f - logSumExp);       // = log p(token 2)
        assertThat(Short.toUnsignedInt(row.getShort(10))).isEqualTo(61439);    // 30 * 65535 / 32 = 61439.06
        assertThat(row.getShort(12)).isZero();
    }

    /** Decoded log-probabilities are the exact log-softmax to half a step, (floor / 65535) / 2, above the floor. */
    @Test
    void roundTripKeepsHeaderTokensAndLogProbabilities(@TempDir Path dir) throws IOException {
        int ctx = 10;
        int vocab = 517;       // odd: rows carry a padding value
        int chunks = 3;
        int rows = LogProbFile.scoredPerChunk(ctx);
        assertThat(rows).isEqualTo(4);
        Random rnd = new Random(5);
        int[] tokens = rnd.ints(ctx * chunks, 0, vocab).toArray();
        float[][] logits = new float[chunks][(ctx - ctx / 2) * vocab];
        // sd 6 over 517 values spans ~40 nats: some next tokens lie below the floor of 24
        for (float[] l : logits) for (int i = 0; i < l.length; i++) l[i] = (float) (rnd.nextGaussian() * 6);
        Path file = dir.resolve("base.kld");
        try (LogProbFile.Writer w = new LogProbFile.Writer(file, ctx, vocab, tokens)) {
            for (float[] l : logits) w.writeChunk(l);
        }
        assertThat(Files.size(file)).isEqualTo(20L + 4L * ctx * chunks + 2L * LogProbFile.rowShorts(vocab) * rows * chunks);

        try (LogProbFile.Reader r = new LogProbFile.Reader(file)) {
            assertThat(r.contextSize()).isEqualTo(ctx);
            assertThat(r.vocabSize()).isEqualTo(vocab);
            assertThat(r.chunks()).isEqualTo(chunks);
            assertThat(r.tokens()).containsExactly(tokens);
            float[] decoded = new float[vocab];
            for (int c = 0; c < chunks; c++) {
                ByteBuffer chunk = r.readChunk(c);
                for (int row = 0; row < rows; row++) {
                    r.decodeRow(chunk, row, decoded);
                    double[] exact = logSoftmax(logits[c], row * vocab, vocab);
                    double top = Arrays.stream(exact).max().orElseThrow();
                    double floor = Math.max(LogProbFile.FLOOR, top - exact[tokens[c * ctx + ctx / 2 + row + 1]]);
                    double step = floor / 65535;
                    for (int i = 0; i < vocab; i++) {
                        if (exact[i] > top - floor) assertThat((double) decoded[i]).isCloseTo(exact[i], within(step / 2 + 1e-5));
                        else assertThat((double) decoded[i]).isCloseTo(top - floor, within(1e-5));
                    }
                }
            }
        }
    }

    @Test
    void damagedFilesAreRefusedWithTheReason(@TempDir Path dir) throws IOException {
        Path text = dir.resolve("text.txt");
        Files.writeString(text, "this is not a log-probability file at all");
        assertThatThrownBy(() -> new LogProbFile.Reader(text)).isInstanceOf(IOException.class)
                .hasMessageContaining("does not look like a file of log-probabilities");

        Path file = dir.resolve("base.kld");
        try (LogProbFile.Writer w = new LogProbFile.Writer(file, 8, 16, new int[16])) {
            w.writeChunk(new float[4 * 16]);     // one of two chunks: as if interrupted
        }
        assertThatThrownBy(() -> new LogProbFile.Reader(file)).isInstanceOf(IOException.class)
                .hasMessageContaining("truncated or not a log-probability file");

        Path tiny = dir.resolve("tiny");
        Files.write(tiny, "_logits_".getBytes());
        assertThatThrownBy(() -> new LogProbFile.Reader(tiny)).isInstanceOf(IOException.class).hasMessageContaining("truncated");
    }

    static double[] logSoftmax(float[] logits, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(logits[off + i] - max);
        double lse = max + Math.log(sum);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = logits[off + i] - lse;
        return out;
    }
}
