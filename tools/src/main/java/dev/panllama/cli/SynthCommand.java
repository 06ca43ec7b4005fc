package dev.panllama.cli;

import dev.panllama.model.Architecture;
import dev.panllama.model.synth.SyntheticGguf;
import dev.panllama.model.synth.SyntheticModel;
import dev.panllama.model.synth.SyntheticPreset;
import dev.panllama.tensor.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;

/** {@code panllama synth}: a random-weight model of a real shape, for speed measurements without a download. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Write a model with real shapes and random weights, for measuring speed without downloading one.",
                "Gaussian weights, std 0.02; norms 1 +- 0.02. Like llama-quantize --pure, every matrix",
                "(token_embd and output included) gets --type; norms and the expert router stay F32.",
                "The same --seed gives the same file whatever the thread count."})
final class SynthCommand extends ToolCommand {

    @Option(names = "--arch", required = true, paramLabel = "ARCH", description = "llama, qwen3, qwen3moe or deepseek2")
    String arch;

    @Option(names = "--preset", required = true, paramLabel = "NAME",
            description = "tiny (a few MB), 1b (n_embd 2048, n_ff 8192, 32/8 heads, 16 layers: bench-1b),"
                    + " 8b (Llama-3-8B), moe (Qwen3-MoE-like: 16 layers, 64 experts of 768, 8 used; qwen3moe only),"
                    + " v3 (DeepSeek-V3's layers: 256 experts of 2048, 8 used, MLA, first layer dense; deepseek2 only)")
    String preset;

    @Option(names = "--type", required = true, paramLabel = "TYPE", description = "tensor type of the matrices, e.g. q4_0, q8_0, f16")
    String type;

    @Parameters(index = "0", paramLabel = "OUT.gguf", description = "file to write")
    Path output;

    @Option(names = "--vocab-from", paramLabel = "FILE.gguf",
            description = "GGUF whose tokenizer.* keys are copied (vocabulary size = its token count);"
                    + " required except for preset tiny, which defaults to the bundled stories260K.gguf")
    Path vocabFrom;

    @Option(names = "--seed", defaultValue = "42", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--layers", paramLabel = "N", description = "number of layers instead of the preset's")
    Integer layers;

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        SyntheticPreset p = SyntheticPreset.byName(preset);
        GgmlType t = GgmlType.byName(type);
        if (t == null) throw new IllegalArgumentException("unknown type '" + type + "' (types: " + SyntheticModel.supportedTypes() + ")");
        if (layers != null && layers <= 0) throw new IllegalArgumentException("--layers must be positive, not " + layers);
        if (threads != null && threads <= 0) throw new IllegalArgumentException("--threads must be positive, not " + threads);
        if (threads != null) ThreadCount.check(threads, "-t", err);
        if (vocabFrom != null) CliFiles.requireInput(vocabFrom, "a GGUF file", false);
        CliFiles.requireReplaceableOutput(output);
        SyntheticGguf model = SyntheticGguf.of(Architecture.byGgufName(arch.toLowerCase(Locale.ROOT)), p,
                layers != null ? layers : 0, t, seed);
        Path vocab = vocabFrom;
        if (vocab == null) {
            if (p != SyntheticPreset.TINY) {
                throw new IllegalArgumentException("preset " + p.cliName() + " needs --vocab-from FILE.gguf for a real tokenizer"
                        + " (e.g. ggml-vocab-llama-spm.gguf, the 32000-token Llama-2 vocab)");
            }
            vocab = BundledModel.path();
        }
        int n = threads != null ? threads : ThreadCount.cores();
        SyntheticModel.Summary s = model.write(output, vocab, n, ProgressBar.onTerminal(err, ProgressBar.Units.BYTES));
        out.printf(Locale.ROOT, "%s: %s %s %s, %s params, %s (%,d bytes), %.2f bpw, %.1f s on %d thread%s%n", output,
                model.arch().ggufName(), p.cliName(), t.ggmlName(), GgufCommand.humanCount(s.parameters()),
                GgufCommand.humanBytes(s.fileBytes()), s.fileBytes(), s.bitsPerWeight(), s.seconds(), n, n == 1 ? "" : "s");
        out.flush();
        return 0;
    }
}
