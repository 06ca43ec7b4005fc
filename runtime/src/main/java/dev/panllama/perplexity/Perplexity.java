package dev.panllama.perplexity;

import dev.panllama.model.Model;
import dev.panllama.model.Session;
import dev.panllama.util.ProgressListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.BiConsumer;

/**
 * Perplexity exactly as llama-perplexity computes it (examples/perplexity/perplexity.cpp): the token
 * stream is cut into {@code n = floor(tokens / ctx)} chunks of {@code ctx} tokens; each chunk's first
 * token is replaced by BOS (when the model adds one) and the chunk is evaluated from an empty cache;
 * only the second half is scored — the logits at positions ctx/2 .. ctx-2 predict the next token —
 * with NLL = -log softmax(logits)[target] (max-shifted, the sum of exponentials in double).
 * PPL = exp(mean NLL); the error is PPL·sqrt(var(NLL)/(count-1)).
 */
public final class Perplexity {
    private Perplexity() {}

    /** @param chunkPpl the running perplexity after each chunk (what llama-perplexity prints as [k]) */
    public record Result(double ppl, double error, int chunks, long scoredTokens, double[] chunkPpl) {}

    /** Receives each chunk's logits for positions ctx/2 .. ctx-1, {@code [ctx - ctx/2][vocab]} (e.g. a {@link LogProbFile.Writer}). */
    @FunctionalInterface
    public interface ChunkLogits {
        void accept(float[] logits) throws IOException;
    }

    /**
     * @param bos      the BOS token put at the start of each chunk, or -1 when the model adds none
     * @param onChunk  called after each chunk with (chunk number from 1, running PPL)
     */
    public static Result compute(Model model, int[] tokens, int ctx, int bos, BiConsumer<Integer, Double> onChunk,
                                 ProgressListener progress) {
        try {
            return compute(model, tokens, ctx, bos, onChunk, progress, logits -> {});
        } catch (IOException e) {
            throw new UncheckedIOException(e);   // unreachable: the sink above does no I/O
        }
    }

    /** As {@link #compute(Model, int[], int, int, BiConsumer, ProgressListener)}, handing each chunk's scored logits to {@code sink}. */
    public static Result compute(Model model, int[] tokens, int ctx, int bos, BiConsumer<Integer, Double> onChunk,
                                 ProgressListener progress, ChunkLogits sink) throws IOException {
        if (ctx < 4) throw new IllegalArgumentException("context " + ctx + " is too small for perplexity (at least 4)");
        int nChunks = tokens.length / ctx;
        if (nChunks == 0) {
            throw new IllegalArgumentException("need at least " + ctx + " tokens for one chunk of -c " + ctx
                    + ", the text has " + tokens.length + " (use a smaller -c or a longer text)");
        }
        int first = ctx / 2;
        double nll = 0;
        double nll2 = 0;
        long count = 0;
        double[] running = new double[nChunks];
        try (Session s = model.newSession(ctx)) {
            int vocab = s.vocabSize();
            int[] chunk = new int[ctx];
            for (int i = 0; i < nChunks; i++) {
                System.arraycopy(tokens, i * ctx, chunk, 0, ctx);
                if (bos >= 0) chunk[0] = bos;
                s.clear();
                float[] logits = s.evaluateFrom(chunk, first);
                sink.accept(logits);
                for (int p = first; p < ctx - 1; p++) {
                    double v = -logSoftmax(logits, (p - first) * vocab, vocab, chunk[p + 1]);
                    nll += v;
                    nll2 += v * v;
                    count++;
                }
                running[i] = Math.exp(nll / count);
                onChunk.accept(i + 1, running[i]);
                progress.update("perplexity", i + 1, nChunks);
            }
        }
        double mean = nll / count;
        double mean2 = nll2 / count - mean * mean;
        double ppl = Math.exp(mean);
        double err = mean2 > 0 && count > 1 ? Math.sqrt(mean2 / (count - 1)) * ppl : 0;
        return new Result(ppl, err, nChunks, count, running);
    }

    /** log softmax(logits)[target] over logits[off, off + n), as llama.cpp's log_softmax. */
    static double logSoftmax(float[] logits, int off, int n, int target) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[off + i]);
        double sumExp = 0;
        for (int i = 0; i < n; i++) sumExp += (float) Math.exp(logits[off + i] - max);
        return logits[off + target] - max - Math.log(sumExp);
    }
}
