package dev.panllama.model;

import dev.panllama.gguf.GgufMetadata;

import java.util.Arrays;
import java.util.Locale;

/**
 * Text embeddings from a model's final hidden states ({@link Session#hiddenStates}), as llama.cpp makes
 * them: a pooling reduces the tokens' states to one vector (or keeps them all), then a norm scales each
 * vector ({@code embd_normalize}).
 */
public final class Embeddings {
    private Embeddings() {}

    /** llama.cpp's pooling types, numbered as its {@code <arch>.pooling_type} GGUF key numbers them. */
    public enum Pooling {
        /** Every token's state, unpooled. */
        NONE,
        /** The average of the tokens' states. */
        MEAN,
        /** The first token's state (BERT's [CLS]). */
        CLS,
        /** The last token's state (what a causal model has read the whole text by). */
        LAST;

        public String cliName() { return name().toLowerCase(Locale.ROOT); }

        /** --pooling's names: none, mean, cls, last. */
        public static Pooling parse(String name) {
            for (Pooling p : values()) if (p.cliName().equals(name)) return p;
            throw new IllegalArgumentException("--pooling " + name + ": must be one of none, mean, cls, last");
        }

        /**
         * The model's own pooling ({@code <arch>.pooling_type}: 0 none, 1 mean, 2 cls, 3 last), else
         * {@code fallback}. Rank pooling (4, rerankers) is not an embedding.
         */
        public static Pooling ofModel(GgufMetadata metadata, Pooling fallback) {
            String arch = metadata.getString("general.architecture", "");
            int type = metadata.getInt(arch + ".pooling_type", -1);
            return switch (type) {
                case -1 -> fallback;
                case 0 -> NONE;
                case 1 -> MEAN;
                case 2 -> CLS;
                case 3 -> LAST;
                default -> throw new IllegalArgumentException(arch + ".pooling_type " + type + " is not an embedding pooling (0..3)");
            };
        }
    }

    /** Reduces {@code [tokens][dim]} states: one vector, or {@code tokens} vectors for {@link Pooling#NONE}. */
    public static float[][] pool(float[] hidden, int tokens, int dim, Pooling pooling) {
        if (tokens < 1 || hidden.length != tokens * dim) throw new IllegalArgumentException(hidden.length + " values are not " + tokens + " x " + dim);
        return switch (pooling) {
            case NONE -> {
                float[][] out = new float[tokens][];
                for (int t = 0; t < tokens; t++) out[t] = Arrays.copyOfRange(hidden, t * dim, (t + 1) * dim);
                yield out;
            }
            case MEAN -> {
                double[] sum = new double[dim];
                for (int t = 0; t < tokens; t++) for (int i = 0; i < dim; i++) sum[i] += hidden[t * dim + i];
                float[] mean = new float[dim];
                for (int i = 0; i < dim; i++) mean[i] = (float) (sum[i] / tokens);
                yield new float[][]{mean};
            }
            case CLS -> new float[][]{Arrays.copyOfRange(hidden, 0, dim)};
            case LAST -> new float[][]{Arrays.copyOfRange(hidden, (tokens - 1) * dim, tokens * dim)};
        };
    }

    /**
     * Scales {@code v} in place as llama.cpp's {@code embd_normalize}: -1 none, 0 max absolute (to
     * int16's range, 32760), 1 taxicab, 2 Euclidean, p > 2 the p-norm. A zero vector stays zero.
     */
    public static void normalize(float[] v, int norm) {
        double sum = 0;
        switch (norm) {
            case -1 -> {
                return;
            }
            case 0 -> {
                for (float x : v) sum = Math.max(sum, Math.abs(x));
                sum /= 32760.0;
            }
            case 1 -> {
                for (float x : v) sum += Math.abs(x);
            }
            case 2 -> {
                for (float x : v) sum += (double) x * x;
                sum = Math.sqrt(sum);
            }
            default -> {
                if (norm < -1) throw new IllegalArgumentException("embd_normalize " + norm + ": must be -1 or more");
                for (float x : v) sum += Math.pow(Math.abs(x), norm);
                sum = Math.pow(sum, 1.0 / norm);
            }
        }
        double scale = sum > 0 ? 1.0 / sum : 0;
        for (int i = 0; i < v.length; i++) v[i] = (float) (v[i] * scale);
    }
}
