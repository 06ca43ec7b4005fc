package dev.panllama.cli;

import dev.panllama.model.Model;
import dev.panllama.perplexity.LogProbFile;
import dev.panllama.perplexity.Perplexity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/** {@code panllama perplexity}: llama-perplexity's numbers and output. */
@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = {"Perplexity of a model on a text, and KL divergence to a base model (like llama-perplexity).",
                "Chunks of -c tokens, each starting with BOS, the second half of each scored.",
                "KL divergence to a base model: run the base with --kl-divergence-base FILE (writes its log-probabilities),",
                "then the other model with --kl-divergence-base FILE --kl-divergence (reads them; no -f needed)."})
final class PerplexityCommand extends ToolCommand {
    @Mixin
    ModelOptionsMixin model;

    @Option(names = {"-f", "--file"}, paramLabel = "TEXT", description = "Text file to score")
    Path file;

    @Option(names = "--kl-divergence-base", paramLabel = "FILE",
            description = "Write the model's log-probabilities to FILE (llama-perplexity's format), or read them with --kl-divergence")
    Path klBase;

    @Option(names = "--kl-divergence", description = "Compare with the base model's log-probabilities in --kl-divergence-base FILE")
    boolean klDivergence;

    @Option(names = "--chunks", paramLabel = "N", defaultValue = "-1", description = "Score at most N chunks (default: -1 = all)")
    int maxChunks;

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        if (maxChunks == 0 || maxChunks < -1) throw new IllegalArgumentException("--chunks " + maxChunks + ": must be positive, or -1 (all)");
        if (klDivergence) {
            if (klBase == null) throw new IllegalArgumentException("--kl-divergence needs --kl-divergence-base FILE (the base model's log-probabilities)");
            return KlDivergenceReport.run(model, klBase, maxChunks, out, err);
        }
        if (file == null) throw new IllegalArgumentException("missing -f TEXT: the text to score");
        int ctx = model.contextSize > 0 ? model.contextSize : 512;   // llama-perplexity's default -c
        String text = CliFiles.readText(file);
        if (klBase != null) CliFiles.requireStreamOutput(klBase);
        try (Model m = model.load(err, ctx)) {
            // each chunk's scored half comes back as one float[positions × vocab] on the heap
            long scored = (long) (ctx - ctx / 2) * m.config().vocabSize();
            if (scored > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("-c " + ctx + ": the logits of the scored half of a chunk, " + scored
                        + " floats, are more than a Java array holds");
            }
            MemoryBudget.checkHeap(4 * scored, "-c " + ctx, "the logits of the scored half of a chunk");
            long t0 = System.nanoTime();
            int[] tokens = m.tokenizer().encode(text, true, false);
            err.printf(Locale.ROOT, "perplexity: tokenizing the input took %.2f ms, %d tokens%n", (System.nanoTime() - t0) / 1e6, tokens.length);
            if (maxChunks > 0) tokens = Arrays.copyOf(tokens, Math.min(tokens.length, maxChunks * ctx));
            int bos = m.tokenizer().addBos() ? m.tokenizer().bos() : -1;
            out.printf(Locale.ROOT, "perplexity: calculating perplexity over %d chunks, n_ctx=%d, batch_size=%d, n_seq=1%n",
                    tokens.length / ctx, ctx, Math.min(model.batch, ctx));
            out.flush();
            long s0 = System.nanoTime();
            Perplexity.Result r;
            try (LogProbFile.Writer base = klBase == null ? null : baseWriter(tokens, ctx, m, err)) {
                r = Perplexity.compute(m, tokens, ctx, bos, (chunk, ppl) -> {
                    out.printf(Locale.ROOT, "[%d]%.4f,", chunk, ppl);
                    out.flush();
                }, ProgressBar.onTerminal(err, ProgressBar.Units.COUNT), base == null ? logits -> {} : base::writeChunk);
            }
            out.println();
            out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f%n", r.ppl(), r.error());
            out.flush();
            double secs = (System.nanoTime() - s0) / 1e9;
            err.printf(Locale.ROOT, "perplexity: %d chunks, %d tokens evaluated in %.2f s (%.1f tok/s), %s%n", r.chunks(),
                    (long) r.chunks() * ctx, secs, r.chunks() * ctx / secs, m.description());
        }
        return 0;
    }

    /** The --kl-divergence-base file of the whole chunks that perplexity scores. */
    private LogProbFile.Writer baseWriter(int[] tokens, int ctx, Model m, PrintWriter err) throws IOException {
        int chunks = tokens.length / ctx;
        if (chunks == 0) return null;    // Perplexity.compute explains that the text is too short
        err.printf(Locale.ROOT, "perplexity: saving the log-probabilities of %d chunks to %s%n", chunks, klBase);
        return new LogProbFile.Writer(klBase, ctx, m.config().vocabSize(), Arrays.copyOf(tokens, chunks * ctx));
    }
}
