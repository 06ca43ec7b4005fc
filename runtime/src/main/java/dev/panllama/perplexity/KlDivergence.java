package dev.panllama.perplexity;

import dev.panllama.model.Model;
import dev.panllama.model.Session;
import dev.panllama.util.ProgressListener;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * How far a model's next-token distributions are from a base model's, position by position, with the
 * statistics llama-perplexity prints under {@code --kl-divergence} (examples/perplexity/perplexity.cpp):
 * KL(base || model), the perplexity of both and their ratio and difference with uncertainties that
 * account for their correlation, the change Δp of the probability given to the actual next token, and
 * how often both put the same token on top.
 *
 * <p>Per position, as llama.cpp does it in single precision: the model's log-softmax from its logits;
 * the base's log-probabilities from the 16-bit rows of a {@link LogProbFile}; the KL sum skips base
 * log-probabilities at or below -16 (their mass is negligible and the rows do not resolve them).
 */
public final class KlDivergence {
    /** Base log-probabilities at or below -16 add nothing to the KL sum (llama-perplexity's cutoff). */
    private static final float KL_CUTOFF = 16f;

    /** A mean and its standard error. */
    public record Estimate(double value, double error) {}

    private double sumNll;
    private double sumNll2;
    private double sumNllBase;
    private double sumNllBase2;
    private double sumNllNllBase;
    private double sumKld;
    private double sumKld2;
    private double sumPDiff;
    private double sumPDiff2;
    private double sumPDiff4;
    private long sameTop;
    private int count;
    private float[] klds = new float[1024];
    private float[] pDiffs = new float[1024];

    /**
     * Compares {@code model} with the base model whose log-probabilities {@code base} holds, on the base
     * file's own tokens and context size: each chunk starts with BOS (when {@code bos >= 0}) from an empty
     * cache, as in perplexity.
     *
     * @param maxChunks at most this many chunks; 0 or less for all of them
     * @param onChunk   called after each chunk with the statistics so far
     */
    public static KlDivergence compute(Model model, LogProbFile.Reader base, int bos, int maxChunks,
                                       Consumer<KlDivergence> onChunk, ProgressListener progress) throws IOException {
        int ctx = base.contextSize();
        int chunks = maxChunks > 0 ? Math.min(maxChunks, base.chunks()) : base.chunks();
        int first = ctx / 2;
        int rows = LogProbFile.scoredPerChunk(ctx);
        int[] tokens = base.tokens();
        KlDivergence kld = new KlDivergence();
        try (Session s = model.newSession(ctx)) {
            int vocab = s.vocabSize();
            if (vocab != base.vocabSize()) {
                throw new IllegalArgumentException("the base log-probabilities cover a vocabulary of " + base.vocabSize()
                        + " tokens, this model has " + vocab + ": compare models that share a vocabulary");
            }
            float[] baseLogProbs = new float[vocab];
            int[] chunk = new int[ctx];
            for (int c = 0; c < chunks; c++) {
                System.arraycopy(tokens, c * ctx, chunk, 0, ctx);
                if (bos >= 0) chunk[0] = bos;
                s.clear();
                float[] logits = s.evaluateFrom(chunk, first);
                ByteBuffer baseRows = base.readChunk(c);
                for (int r = 0; r < rows; r++) {
                    base.decodeRow(baseRows, r, baseLogProbs);
                    kld.add(logits, r * vocab, vocab, tokens[c * ctx + first + r + 1], baseLogProbs);
                }
                onChunk.accept(kld);
                progress.update("kl-divergence", c + 1, chunks);
            }
        }
        return kld;
    }

    /**
     * Adds one position: the model's logits {@code logits[off, off + vocab)}, the base's log-probabilities,
     * and the token that actually came next.
     */
    public void add(float[] logits, int off, int vocab, int target, float[] baseLogProbs) {
        float max = logits[off];
        int top = 0;
        for (int i = 1; i < vocab; i++) {
            if (logits[off + i] > max) {
                max = logits[off + i];
                top = i;
            }
        }
        double sumExp = 0;
        for (int i = 0; i < vocab; i++) sumExp += (float) Math.exp(logits[off + i] - max);
        float logSumExp = (float) Math.log(sumExp);
        float nll = max + logSumExp - logits[off + target];
        float nllBase = -baseLogProbs[target];
        sumNll += nll;
        sumNll2 += (double) nll * nll;
        sumNllBase += nllBase;
        sumNllBase2 += (double) nllBase * nllBase;
        sumNllNllBase += (double) nll * nllBase;

        float logNorm = max + logSumExp;              // log p[i] = logits[i] - logNorm
        double kl = 0;
        int topBase = 0;
        for (int i = 0; i < vocab; i++) {
            float lpBase = baseLogProbs[i];
            if (lpBase > baseLogProbs[topBase]) topBase = i;
            if (lpBase > -KL_CUTOFF) kl += (float) Math.exp(lpBase) * (lpBase - logits[off + i] + logNorm);
        }
        sumKld += kl;
        sumKld2 += kl * kl;
        if (top == topBase) sameTop++;

        float pDiff = (float) Math.exp(-nll) - (float) Math.exp(-nllBase);
        sumPDiff += pDiff;
        double pDiff2 = (double) pDiff * pDiff;
        sumPDiff2 += pDiff2;
        sumPDiff4 += pDiff2 * pDiff2;
        if (count == klds.length) {
            klds = Arrays.copyOf(klds, 2 * count);
            pDiffs = Arrays.copyOf(pDiffs, 2 * count);
        }
        klds[count] = (float) kl;
        pDiffs[count] = pDiff;
        count++;
    }

    /** Positions compared. */
    public int count() { return count; }

    /** Perplexity of the model on the base file's tokens. */
    public Estimate ppl() {
        Estimate ln = mean(sumNll, sumNll2);
        double ppl = Math.exp(ln.value());
        return new Estimate(ppl, ppl * ln.error());
    }

    /** Perplexity of the base model, from its stored log-probabilities. */
    public Estimate basePpl() {
        Estimate ln = mean(sumNllBase, sumNllBase2);
        double ppl = Math.exp(ln.value());
        return new Estimate(ppl, ppl * ln.error());
    }

    /** ln(PPL(model) / PPL(base)); its error subtracts the covariance of both log-likelihoods. */
    public Estimate logPplRatio() {
        Estimate q = mean(sumNll, sumNll2);
        Estimate b = mean(sumNllBase, sumNllBase2);
        double var = q.error() * q.error() + b.error() * b.error() - 2 * logPplCovariance();
        return new Estimate(q.value() - b.value(), Math.sqrt(var));
    }

    public Estimate pplRatio() {
        Estimate ln = logPplRatio();
        double r = Math.exp(ln.value());
        return new Estimate(r, r * ln.error());
    }

    /** PPL(model) - PPL(base). */
    public Estimate pplDifference() {
        Estimate q = ppl();
        Estimate b = basePpl();
        double cov = q.value() * b.value() * logPplCovariance();
        return new Estimate(q.value() - b.value(), Math.sqrt(q.error() * q.error() + b.error() * b.error() - 2 * cov));
    }

    /** Correlation of the two mean log-likelihoods, between -1 and 1. */
    public double logPplCorrelation() {
        return logPplCovariance() / (mean(sumNll, sumNll2).error() * mean(sumNllBase, sumNllBase2).error());
    }

    /** Mean KL(base || model) in nats. */
    public Estimate kld() { return mean(sumKld, sumKld2); }

    /** Mean of p(model) - p(base) for the actual next token. */
    public Estimate deltaP() { return mean(sumPDiff, sumPDiff2); }

    /** Root mean square of Δp. */
    public Estimate rmsDeltaP() {
        Estimate mse = mean(sumPDiff2, sumPDiff4);
        double rms = Math.sqrt(mse.value());
        return new Estimate(rms, rms > 0 ? 0.5 / rms * mse.error() : 0);
    }

    /** Fraction of positions where both models rank the same token first. */
    public Estimate sameTop() {
        double p = count > 0 ? (double) sameTop / count : 0;
        return new Estimate(p, count > 1 ? Math.sqrt(p * (1 - p) / (count - 1)) : 0);
    }

    /** The per-position KL divergences, sorted. */
    public float[] sortedKlds() {
        float[] v = Arrays.copyOf(klds, count);
        Arrays.sort(v);
        return v;
    }

    /** The per-position Δp, sorted. */
    public float[] sortedDeltaPs() {
        float[] v = Arrays.copyOf(pDiffs, count);
        Arrays.sort(v);
        return v;
    }

    /** Linear interpolation between the nearest ranks of sorted values, as llama-perplexity's percentiles. */
    public static double percentile(float[] sorted, double fraction) {
        if (fraction <= 0) return sorted[0];
        if (fraction >= 1) return sorted[sorted.length - 1];
        double p = fraction * (sorted.length - 1);
        int i = (int) p;
        p -= i;
        return (1 - p) * sorted[i] + p * sorted[Math.min(i + 1, sorted.length - 1)];
    }

    /** The middle value, or the mean of the two middle ones. */
    public static double median(float[] sorted) {
        int n = sorted.length;
        return n % 2 == 0 ? 0.5 * (sorted[n / 2] + sorted[n / 2 - 1]) : sorted[n / 2];
    }

    /** llama.cpp's estimate: no error below 11 samples. */
    private Estimate mean(double sum, double sum2) {
        if (count < 1) return new Estimate(0, 0);
        double f = sum / count;
        double var = sum2 / count - f * f;
        return new Estimate(f, var > 0 && count > 10 ? Math.sqrt(var / (count - 1)) : 0);
    }

    private double logPplCovariance() {
        if (count < 10) return 0;
        return (sumNllNllBase / count - (sumNll / count) * (sumNllBase / count)) / (count - 1);
    }
}
