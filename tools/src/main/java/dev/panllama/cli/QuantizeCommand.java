package dev.panllama.cli;

import dev.panllama.gguf.MappedGguf;
import dev.panllama.quantize.CustomRules;
import dev.panllama.quantize.ImportanceMatrix;
import dev.panllama.quantize.QuantMix;
import dev.panllama.quantize.QuantPlan;
import dev.panllama.quantize.QuantPlanner;
import dev.panllama.quantize.QuantizeOptions;
import dev.panllama.quantize.Quantizer;
import dev.panllama.quantize.TensorPlan;
import dev.panllama.tensor.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code panllama quantize}: llama-quantize's tool, with ik_llama.cpp's --custom-q and MoE-aware mixes. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Convert a GGUF model to another tensor type or mix of types, as llama-quantize does.",
                "TYPE: " + "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M,",
                "Q5_K_S, Q5_K_M, Q6_K, IQ4_NL, IQ4_XS (Q3_K, Q4_K, Q5_K: the _M mixes), ik_llama.cpp's IQ2_K, IQ3_K,",
                "IQ4_K, IQ5_K, IQ6_K, IQ2_KS, IQ4_KS, IQ4_KSS, IQ2_K_R4, IQ3_K_R4, IQ4_K_R4, or its (ik_)llama.cpp ftype number.",
                "The mixes choose per-tensor types by llama-quantize's rules; for models with experts panllama",
                "adds bits to attention, shared experts and early ffn_down (see --llama-mix).",
                "Usage: panllama quantize [OPTIONS] IN.gguf OUT.gguf TYPE [THREADS]",
                "       panllama quantize --dry-run [OPTIONS] IN.gguf TYPE"})
final class QuantizeCommand extends ToolCommand {

    @Parameters(arity = "2..4", paramLabel = "ARGS", description = "IN.gguf [OUT.gguf] TYPE [THREADS]")
    List<String> arguments;

    @Option(names = "--pure", description = "disable the mixes: every quantizable tensor gets TYPE")
    boolean pure;

    @Option(names = "--output-tensor-type", paramLabel = "TYPE", description = "ggml type of output.weight, e.g. q8_0")
    String outputType;

    @Option(names = "--token-embedding-type", paramLabel = "TYPE", description = "ggml type of token_embd.weight")
    String tokenEmbeddingType;

    @Option(names = "--custom-q", paramLabel = "RULES",
            description = "per-tensor types, \"REGEX=TYPE,REGEX=TYPE,...\": the first rule whose regex is found in a"
                    + " tensor's name sets its type (ik_llama.cpp's option); may be repeated")
    List<String> customRules = new ArrayList<>();

    @Option(names = "--imatrix", paramLabel = "FILE",
            description = "importance matrix (llama-imatrix's GGUF or legacy .dat) for importance-weighted quantization")
    Path imatrix;

    @Option(names = "--allow-requantize", description = "allow converting tensors that are already quantized")
    boolean allowRequantize;

    @Option(names = "--dry-run", description = "print the per-tensor plan and sizes, write nothing")
    boolean dryRun;

    @Option(names = "--llama-mix", description = "llama-quantize's mix rules exactly, without panllama's MoE rules")
    boolean llamaMix;

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        Path in = Path.of(arguments.get(0));
        Path output = null;
        String typeArg;
        int threads = Runtime.getRuntime().availableProcessors();
        if (dryRun && arguments.size() == 2) {
            typeArg = arguments.get(1);
        } else {
            if (arguments.size() < 3) throw new IllegalArgumentException("expected IN.gguf OUT.gguf TYPE [THREADS]");
            output = Path.of(arguments.get(1));
            typeArg = arguments.get(2);
            if (arguments.size() == 4) threads = ThreadCount.check(parseThreads(arguments.get(3)), "THREADS", err);
        }
        QuantMix mix = QuantMix.parse(typeArg);
        CliFiles.requireInput(in, "a GGUF file", false);
        // before any work: a missing directory used to fail only at the end, naming the temporary file
        if (output != null) CliFiles.requireReplaceableOutput(output);
        // a missing file is left to ImportanceMatrix.read, which says "no such imatrix file"
        if (imatrix != null && Files.exists(imatrix)) CliFiles.requireInput(imatrix, "an importance matrix file", false);
        ImportanceMatrix im = imatrix != null ? ImportanceMatrix.read(imatrix) : null;
        QuantizeOptions options = new QuantizeOptions(mix, pure, ggmlType(outputType, "--output-tensor-type"),
                ggmlType(tokenEmbeddingType, "--token-embedding-type"), CustomRules.parse(customRules), llamaMix,
                allowRequantize, im);
        try (MappedGguf model = MappedGguf.open(in)) {
            QuantPlan plan = QuantPlanner.plan(model, options);
            if (im != null) {
                out.printf(Locale.ROOT, "imatrix: %s (%s, %d entries, %d chunks%s)%n", imatrix, im.format().name().toLowerCase(Locale.ROOT),
                        im.entryCount(), im.chunkCount(), im.datasets().isEmpty() ? "" : ", dataset " + im.datasets().getFirst());
            }
            printPlan(out, plan);
            if (dryRun) {
                if (!plan.requantized().isEmpty() && !allowRequantize) {
                    out.printf("note: %d tensors are already quantized; quantizing needs --allow-requantize%n", plan.requantized().size());
                }
                out.flush();
                return 0;
            }
            out.flush();
            Quantizer.Result r = Quantizer.run(model, plan, output, threads,
                    ProgressBar.onTerminal(err, ProgressBar.Units.BYTES));
            out.printf(Locale.ROOT, "%s: %s, %s -> %s (%.2f bpw), %.1f s on %d thread%s%n", output, mix,
                    GgufCommand.humanBytes(r.bytesBefore()), GgufCommand.humanBytes(r.bytesAfter()),
                    8.0 * r.bytesAfter() / plan.elementCount(), r.seconds(), threads, threads == 1 ? "" : "s");
            out.flush();
        }
        return 0;
    }

    /** One line per tensor, as llama-quantize logs them, with the rule that chose the type; then totals. */
    static void printPlan(PrintWriter o, QuantPlan plan) {
        List<TensorPlan> tensors = plan.tensors();
        int width = tensors.stream().mapToInt(t -> t.name().length()).max().orElse(10);
        for (int i = 0; i < tensors.size(); i++) {
            TensorPlan t = tensors.get(i);
            o.printf(Locale.ROOT, "[%4d/%4d] %-" + width + "s %-18s %7s -> %-7s %9.3f -> %9.3f MiB  %s%s%n", i + 1, tensors.size(),
                    t.name(), shape(t.shape()), t.from().ggmlName(), t.to().ggmlName(), mib(t.bytesBefore()), mib(t.bytesAfter()),
                    t.reason(), t.importance() != null ? " [imatrix]" : "");
        }
        for (String w : plan.warnings()) o.println("warning: " + w);
        long elements = plan.elementCount();
        o.printf(Locale.ROOT, "model size = %10.2f MiB (%.2f BPW)%n", mib(plan.bytesBefore()), 8.0 * plan.bytesBefore() / elements);
        o.printf(Locale.ROOT, "quant size = %10.2f MiB (%.2f BPW)%n", mib(plan.bytesAfter()), 8.0 * plan.bytesAfter() / elements);
    }

    private static String shape(long[] shape) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) b.append(i > 0 ? ", " : "").append(shape[i]);
        return b.append(']').toString();
    }

    private static double mib(long bytes) {
        return bytes / 1048576.0;
    }

    private static int parseThreads(String s) {
        try {
            int n = Integer.parseInt(s);
            if (n > 0) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("THREADS must be a positive number, not '" + s + "'");
    }

    private static GgmlType ggmlType(String name, String option) {
        if (name == null) return null;
        GgmlType t = GgmlType.byName(name);
        if (t == null) throw new IllegalArgumentException(option + ": unknown ggml type '" + name + "'");
        return t;
    }
}
