package dev.panllama.cli;

import dev.panllama.model.Model;
import dev.panllama.perplexity.KlDivergence.Estimate;
import dev.panllama.perplexity.KlDivergence;
import dev.panllama.perplexity.LogProbFile;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code panllama perplexity --kl-divergence}: compares a model with the base log-probabilities and
 * prints what llama-perplexity prints (examples/perplexity/perplexity.cpp, kl_divergence): a running
 * line per chunk, then perplexity, KL-divergence and token-probability statistics.
 */
final class KlDivergenceReport {
    /** llama-perplexity prints no statistics over fewer positions. */
    private static final int MIN_POSITIONS = 100;

    private KlDivergenceReport() {}

    static int run(ModelOptionsMixin options, Path basePath, int maxChunks, PrintWriter out, PrintWriter err) throws IOException {
        CliFiles.requireInput(basePath, "a file of log-probabilities", false);
        try (LogProbFile.Reader base = new LogProbFile.Reader(basePath)) {
            int ctx = base.contextSize();
            if (options.contextSize > 0 && options.contextSize != ctx) {
                throw new IllegalArgumentException(basePath + " holds chunks of " + ctx + " tokens: use -c " + ctx + " or leave -c out");
            }
            int chunks = maxChunks > 0 ? Math.min(maxChunks, base.chunks()) : base.chunks();
            try (Model m = options.load(err, ctx)) {
                int bos = m.tokenizer().addBos() ? m.tokenizer().bos() : -1;
                err.printf(Locale.ROOT, "kl_divergence: %d chunks of n_ctx=%d from %s%n", chunks, ctx, basePath);
                out.printf("%nchunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p%n");
                out.flush();
                int[] chunk = {0};
                long t0 = System.nanoTime();
                KlDivergence kld = KlDivergence.compute(m, base, bos, chunks, k -> {
                    printChunkLine(out, ++chunk[0], k);
                    out.flush();
                }, ProgressBar.onTerminal(err, ProgressBar.Units.COUNT));
                out.println();
                if (kld.count() < MIN_POSITIONS) {
                    err.printf(Locale.ROOT, "kl_divergence: %d positions are too few for the statistics (at least %d)%n", kld.count(), MIN_POSITIONS);
                } else {
                    printStatistics(out, kld);
                }
                out.flush();
                double secs = (System.nanoTime() - t0) / 1e9;
                err.printf(Locale.ROOT, "kl_divergence: %d chunks, %d tokens evaluated in %.2f s (%.1f tok/s), %s%n", chunks,
                        (long) chunks * ctx, secs, chunks * ctx / secs, m.description());
            }
        }
        return 0;
    }

    private static void printChunkLine(PrintWriter out, int chunk, KlDivergence k) {
        Estimate ppl = k.ppl();
        Estimate ratio = k.logPplRatio();
        Estimate kl = k.kld();
        Estimate rms = k.rmsDeltaP();
        Estimate top = k.sameTop();
        out.printf(Locale.ROOT, "%4d    %9.4f ± %9.4f    %10.5f ± %10.5f    %10.5f ± %10.5f    %6.3f ± %6.3f %%    %6.3f ± %6.3f %%%n",
                chunk, ppl.value(), ppl.error(), ratio.value(), ratio.error(), kl.value(), kl.error(),
                100 * rms.value(), 100 * rms.error(), 100 * top.value(), 100 * top.error());
    }

    private static void printStatistics(PrintWriter out, KlDivergence k) {
        out.println("====== Perplexity statistics ======");
        line(out, "Mean PPL(Q)                   : %10.6f ± %10.6f", k.ppl());
        line(out, "Mean PPL(base)                : %10.6f ± %10.6f", k.basePpl());
        out.printf(Locale.ROOT, "Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%%n", 100 * k.logPplCorrelation());
        line(out, "Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f", k.logPplRatio());
        line(out, "Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f", k.pplRatio());
        line(out, "Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f", k.pplDifference());
        out.println();

        out.println("====== KL divergence statistics ======");
        line(out, "Mean    KLD: %10.6f ± %10.6f", k.kld());
        float[] klds = k.sortedKlds();
        out.printf(Locale.ROOT, "Maximum KLD: %10.6f%n", klds[klds.length - 1]);
        for (double f : new double[]{0.999, 0.99, 0.95, 0.90}) {
            out.printf(Locale.ROOT, "%4.1f%%   KLD: %10.6f%n", 100 * f, KlDivergence.percentile(klds, f));
        }
        out.printf(Locale.ROOT, "Median  KLD: %10.6f%n", KlDivergence.median(klds));
        for (double f : new double[]{0.10, 0.05, 0.01, 0.001}) {
            out.printf(Locale.ROOT, "%4.1f%%   KLD: %10.6f%n", 100 * f, KlDivergence.percentile(klds, f));
        }
        out.printf(Locale.ROOT, "Minimum KLD: %10.6f%n", klds[0]);
        out.println();

        out.println("====== Token probability statistics ======");
        Estimate dp = k.deltaP();
        out.printf(Locale.ROOT, "Mean    Δp: %6.3f ± %5.3f %%%n", 100 * dp.value(), 100 * dp.error());
        float[] dps = k.sortedDeltaPs();
        out.printf(Locale.ROOT, "Maximum Δp: %6.3f%%%n", 100.0 * dps[dps.length - 1]);
        for (double f : new double[]{0.999, 0.99, 0.95, 0.90, 0.75}) {
            out.printf(Locale.ROOT, "%4.1f%%   Δp: %6.3f%%%n", 100 * f, 100 * KlDivergence.percentile(dps, f));
        }
        out.printf(Locale.ROOT, "Median  Δp: %6.3f%%%n", 100 * KlDivergence.median(dps));
        for (double f : new double[]{0.25, 0.10, 0.05, 0.01, 0.001}) {
            out.printf(Locale.ROOT, "%4.1f%%   Δp: %6.3f%%%n", 100 * f, 100 * KlDivergence.percentile(dps, f));
        }
        out.printf(Locale.ROOT, "Minimum Δp: %6.3f%%%n", 100.0 * dps[0]);
        Estimate rms = k.rmsDeltaP();
        out.printf(Locale.ROOT, "RMS Δp    : %6.3f ± %5.3f %%%n", 100 * rms.value(), 100 * rms.error());
        Estimate top = k.sameTop();
        out.printf(Locale.ROOT, "Same top p: %6.3f ± %5.3f %%%n", 100 * top.value(), 100 * top.error());
    }

    private static void line(PrintWriter out, String format, Estimate e) {
        out.printf(Locale.ROOT, format + "%n", e.value(), e.error());
    }
}
