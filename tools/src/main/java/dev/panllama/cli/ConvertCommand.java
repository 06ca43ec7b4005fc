package dev.panllama.cli;

import dev.panllama.convert.GgufConverter;
import dev.panllama.convert.OutType;
import dev.panllama.tensor.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** {@code panllama convert}: llama.cpp's convert_hf_to_gguf.py for the llama and qwen families, FP8 checkpoints included. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a Hugging Face model directory to GGUF (like convert_hf_to_gguf.py).",
                "config.json, *.safetensors and tokenizer.json, with llama.cpp's metadata keys and tensor names:",
                "llama, mistral, qwen2, qwen3 and qwen3moe.",
                "FP8 checkpoints (quantization_config.quant_method fp8: block, per-tensor or per-channel scales)",
                "are dequantized (w = fp8 x scale), or kept FP8 with --outtype fp8.",
                "An FP8 GGUF given as INPUT is re-encoded to the --outtype: the way to quantize one."})
final class ConvertCommand extends ToolCommand {

    @Parameters(index = "0", paramLabel = "INPUT", description = "Hugging Face model directory, or an FP8 GGUF")
    Path input;

    @Parameters(index = "1", paramLabel = "OUT.gguf", description = "file to write")
    Path output;

    @Option(names = "--outtype", paramLabel = "TYPE", defaultValue = "f16",
            description = "f32, f16, bf16, q8_0 or fp8 (default: ${DEFAULT-VALUE}); norms and biases stay f32")
    String outType;

    @Option(names = "--vocab-from", paramLabel = "FILE.gguf",
            description = "take the tokenizer (every tokenizer.* key) from this GGUF instead of tokenizer.json")
    Path vocabFrom;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "threads (default: all cores)")
    Integer threads;

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        OutType type = OutType.parse(outType);
        if (threads != null && threads <= 0) throw new IllegalArgumentException("--threads must be positive, not " + threads);
        int n = threads != null ? ThreadCount.check(threads, "-t", err) : ThreadCount.cores();
        CliFiles.requireInput(input, "a Hugging Face model directory or an FP8 GGUF", true);
        if (vocabFrom != null) CliFiles.requireInput(vocabFrom, "a GGUF file", false);
        CliFiles.requireReplaceableOutput(output);
        GgufConverter.Summary s = GgufConverter.convert(input, output, type, vocabFrom, n,
                ProgressBar.onTerminal(err, ProgressBar.Units.BYTES));
        String types = s.types().entrySet().stream()
                .map((Map.Entry<GgmlType, Integer> e) -> e.getValue() + " " + e.getKey().ggmlName())
                .collect(Collectors.joining(", "));
        out.printf(Locale.ROOT, "%s: %d tensors (%s), %s (%,d bytes), %.1f s on %d thread%s%n", output, s.tensors(), types,
                GgufCommand.humanBytes(s.fileBytes()), s.fileBytes(), s.seconds(), n, n == 1 ? "" : "s");
        out.flush();
        return 0;
    }
}
