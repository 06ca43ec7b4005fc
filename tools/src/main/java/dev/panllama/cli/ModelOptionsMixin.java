package dev.panllama.cli;

import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.tensor.GgmlType;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;

/** The model flags every running tool shares, with llama.cpp's names and defaults. */
final class ModelOptionsMixin {
    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF model (default: the bundled stories260K.gguf)")
    Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "0",
            description = "CPU threads (default: all cores)")
    int threads;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "0",
            description = "Context size in tokens (default: the model's, at most " + Model.DEFAULT_CONTEXT + ")")
    int contextSize;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", defaultValue = "2048",
            description = "Logical batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = {"-ub", "--ubatch-size"}, paramLabel = "N", defaultValue = "512",
            description = "Physical batch size: tokens per forward pass (default: ${DEFAULT-VALUE})")
    int ubatch;

    @Option(names = "--no-mmap", description = "Read the model into memory instead of mapping it")
    boolean noMmap;

    @Option(names = "--mlock", description = "Lock the model in RAM")
    boolean mlock;

    @Option(names = {"-ctk", "--cache-type-k"}, paramLabel = "TYPE", defaultValue = "f16",
            description = "KV cache type for K: f16, bf16, f32, q8_0, q4_0 (default: ${DEFAULT-VALUE})")
    String cacheTypeK;

    @Option(names = {"-ctv", "--cache-type-v"}, paramLabel = "TYPE", defaultValue = "f16",
            description = "KV cache type for V (default: ${DEFAULT-VALUE})")
    String cacheTypeV;

    Path modelPath() {
        return model != null ? model : BundledModel.path();
    }

    ModelOptions options(PrintWriter err) {
        if (threads < 0) throw new IllegalArgumentException("-t must be >= 0, not " + threads);
        if (contextSize < 0) throw new IllegalArgumentException("-c must be >= 0, not " + contextSize);
        if (batch <= 0 || ubatch <= 0) throw new IllegalArgumentException("-b and -ub must be positive");
        return ModelOptions.DEFAULTS.withThreads(threads).withContextLength(contextSize).withBatch(batch, ubatch)
                .withMmap(!noMmap).withMlock(mlock).withCacheTypes(cacheType(cacheTypeK, "-ctk"), cacheType(cacheTypeV, "-ctv"))
                .withProgress(ProgressBar.onTerminal(err, ProgressBar.Units.BYTES));
    }

    Model load(PrintWriter err) throws IOException {
        return Model.load(modelPath(), options(err));
    }

    static GgmlType cacheType(String name, String flag) {
        GgmlType t = GgmlType.byName(name);
        if (t == null || !(t == GgmlType.F16 || t == GgmlType.BF16 || t == GgmlType.F32 || t == GgmlType.Q8_0 || t == GgmlType.Q4_0)) {
            throw new IllegalArgumentException(flag + " " + name + ": unsupported KV cache type (use f16, bf16, f32, q8_0 or q4_0)");
        }
        return t;
    }
}
