package dev.panllama.cli;

import dev.panllama.backend.MatmulTap;
import dev.panllama.model.Model;
import dev.panllama.perplexity.Perplexity;
import dev.panllama.quantize.ImatrixCollector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@code panllama imatrix} (llama-imatrix): runs the text through the model in perplexity's chunks and
 * writes the importance matrix (the mean squared activation into every column of every layer weight),
 * in llama.cpp's legacy .dat format or its GGUF one, for {@code quantize --imatrix}.
 */
@Command(name = "imatrix", mixinStandardHelpOptions = true,
        description = "Compute an importance matrix over a text (like llama-imatrix), for quantize --imatrix.")
final class ImatrixCommand extends ToolCommand {
    @Mixin
    ModelOptionsMixin model;

    @Option(names = {"-f", "--file"}, paramLabel = "TEXT", required = true, description = "The text to run through the model")
    Path file;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "imatrix.dat", description = "Where to write it (default: ${DEFAULT-VALUE})")
    Path output;

    @Option(names = "--chunks", paramLabel = "N", defaultValue = "-1", description = "At most N chunks of -c tokens (default: -1 = all)")
    int maxChunks;

    @Option(names = "--output-format", paramLabel = "dat|gguf", description = "llama.cpp's legacy .dat, or its GGUF imatrix (default: by -o's extension)")
    String outputFormat;

    @Option(names = {"--output-frequency", "--output-freq", "-ofreq"}, paramLabel = "N", defaultValue = "10", description = "Save every N chunks as well (default: ${DEFAULT-VALUE})")
    int outputFrequency;

    @Option(names = "--process-output", description = "Collect output.weight too (llama-imatrix leaves it out)")
    boolean processOutput;

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        if (maxChunks == 0 || maxChunks < -1) throw new IllegalArgumentException("--chunks " + maxChunks + ": must be positive, or -1 (all)");
        if (outputFrequency < 1) throw new IllegalArgumentException("--output-frequency " + outputFrequency + ": must be positive");
        CliFiles.requireStreamOutput(output);
        boolean gguf = outputFormat == null ? output.toString().endsWith(".gguf") : switch (outputFormat) {
            case "gguf" -> true;
            case "dat" -> false;
            default -> throw new IllegalArgumentException("--output-format " + outputFormat + ": must be dat or gguf");
        };
        int ctx = model.contextSize > 0 ? model.contextSize : 512;
        String text = CliFiles.readText(file);
        String dataset = file.getFileName().toString();
        ImatrixCollector collector = new ImatrixCollector(processOutput);
        try (Model m = model.load(err, ctx)) {
            if (m.config().isMoe()) throw new IllegalArgumentException("imatrix of a mixture-of-experts model is not supported yet (its expert tensors need per-expert statistics)");
            int[] tokens = m.tokenizer().encode(text, true, false);
            if (maxChunks > 0) tokens = Arrays.copyOf(tokens, Math.min(tokens.length, maxChunks * ctx));
            int bos = m.tokenizer().addBos() ? m.tokenizer().bos() : -1;
            int chunks = tokens.length / ctx;
            err.printf(Locale.ROOT, "imatrix: computing over %d chunks of %d tokens%n", chunks, ctx);
            err.flush();
            MatmulTap.Listener previous = MatmulTap.set(collector);
            Perplexity.Result r;
            try {
                r = Perplexity.compute(m, tokens, ctx, bos, (chunk, ppl) -> {
                    err.printf(Locale.ROOT, "[%d]%.4f,", chunk, ppl);
                    err.flush();
                    if (chunk % outputFrequency == 0 && chunk < chunks) save(collector, chunk, ctx, dataset, gguf);
                }, ProgressBar.onTerminal(err, ProgressBar.Units.COUNT));
            } finally {
                MatmulTap.set(previous);
            }
            err.println();
            err.printf(Locale.ROOT, "imatrix: final estimate: PPL = %.4f +/- %.5f%n", r.ppl(), r.error());
            save(collector, r.chunks(), ctx, dataset, gguf);
            err.printf(Locale.ROOT, "imatrix: stored %d entries from %d chunks in %s%n", collector.entries(), r.chunks(), output);
            err.flush();
        }
        return 0;
    }

    private void save(ImatrixCollector c, int chunk, int ctx, String dataset, boolean gguf) {
        try {
            if (gguf) c.writeGguf(output, chunk, ctx, dataset);
            else c.writeLegacy(output, chunk, dataset);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(output + ": " + e.getMessage(), e);
        }
    }
}
