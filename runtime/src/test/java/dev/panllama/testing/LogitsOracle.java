package dev.panllama.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * llama.cpp's logits for the zoo prompt ({@code reference/zoo/logits}): {@code [36][512]} little-endian
 * floats, and the comparison the reference README defines: per position p, d_p = max over the
 * vocabulary of |ours - ref|.
 */
public final class LogitsOracle {
    private final int[] tokens;
    private final float[] logits;
    private final int vocab;

    private LogitsOracle(int[] tokens, float[] logits) {
        this.tokens = tokens;
        this.logits = logits;
        this.vocab = logits.length / tokens.length;
    }

    /** The oracle for zoo model {@code name} (e.g. zoo-llama-Q4_K), from ../shared or bundled (skips when in neither). */
    public static LogitsOracle zoo(String name) throws IOException {
        return of(TestFiles.requireZoo("logits/prompt.tokens.txt"), TestFiles.requireZoo("logits/" + name + ".logits.f32"));
    }

    public static LogitsOracle of(Path tok, Path log) throws IOException {
        int[] tokens = Arrays.stream(Files.readString(tok).trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(log)).order(ByteOrder.LITTLE_ENDIAN);
        float[] logits = new float[bb.remaining() / 4];
        bb.asFloatBuffer().get(logits);
        if (logits.length % tokens.length != 0) throw new IOException(log + " does not hold " + tokens.length + " rows");
        return new LogitsOracle(tokens, logits);
    }

    public int[] tokens() { return tokens.clone(); }

    public int vocab() { return vocab; }

    public Comparison compare(float[] ours) {
        if (ours.length != logits.length) {
            throw new IllegalArgumentException("got " + ours.length + " logits, the oracle has " + logits.length);
        }
        return Comparison.between(ours, logits, tokens.length);
    }

    /**
     * @param perPosition d_p, the largest absolute difference at each position
     * @param meanAbs     mean |ours - ref| over every logit of every position (the criterion's "mean |d|")
     */
    public record Comparison(double[] perPosition, double meanAbs) {

        /** Compares two [positions][vocab] logit arrays. */
        public static Comparison between(float[] ours, float[] logits, int positions) {
        int vocab = logits.length / positions;
        double[] d = new double[positions];
        double sum = 0;
        for (int p = 0; p < positions; p++) {
            double m = 0;
            for (int v = 0; v < vocab; v++) {
                double diff = Math.abs(ours[p * vocab + v] - logits[p * vocab + v]);
                m = Math.max(m, diff);
                sum += diff;
            }
            d[p] = m;
        }
        return new Comparison(d, sum / logits.length);
        }

        public double worst() { return Arrays.stream(perPosition).max().orElse(0); }

        public int worstPosition() {
            int w = 0;
            for (int i = 1; i < perPosition.length; i++) if (perPosition[i] > perPosition[w]) w = i;
            return w;
        }

        public double fractionWithin(double limit) {
            return Arrays.stream(perPosition).filter(x -> x <= limit).count() / (double) perPosition.length;
        }

        @Override
        public String toString() {
            return String.format("mean |d| %.5f, worst d_p %.5f at position %d, %.1f%% of positions with d_p <= 0.02, %.1f%% <= 0.25",
                    meanAbs, worst(), worstPosition(), 100 * fractionWithin(0.02), 100 * fractionWithin(0.25));
        }
    }
}
