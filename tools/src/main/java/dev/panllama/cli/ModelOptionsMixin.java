package dev.panllama.cli;

import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.scheduler.PlacementSettings;
import dev.panllama.tensor.GgmlType;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The model flags every running tool shares, with llama.cpp's names and defaults. */
final class ModelOptionsMixin {
    @Option(names = {"-fa", "--flash-attn"}, paramLabel = "on|off|auto", arity = "0..1", fallbackValue = "on",
            description = "Accepted as llama.cpp's: panllama's attention is always the fused, online-softmax kind (flash attention)")
    String flashAttn;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "GGUF model, FP8 GGUF or Hugging Face model directory (default: the bundled stories260K.gguf)")
    Path model;

    @Option(names = "--vocab-from", paramLabel = "FILE.gguf",
            description = "With -m DIR (Hugging Face) only: take the tokenizer from this GGUF instead of tokenizer.json")
    Path vocabFrom;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "0",
            description = "CPU threads, at most " + ThreadCount.MAX + " (default: 0 = all cores)")
    int threads;

    @Option(names = {"-tb", "--threads-batch"}, paramLabel = "N", defaultValue = "0",
            description = "CPU threads for prompt batches (default: 0 = as -t)")
    int threadsBatch;

    @Option(names = "--numa", paramLabel = "distribute|isolate|numactl",
            description = "On a NUMA machine: spread the CPU threads over the nodes, keep them on the starting node, or on numactl's CPU set")
    String numa;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "0",
            description = "Context size in tokens; more than the model was trained with is allowed, with a warning"
                    + " (default: 0 = the model's, at most " + Model.DEFAULT_CONTEXT + ")")
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

    @Option(names = {"-ngl", "--gpu-layers", "--n-gpu-layers"}, paramLabel = "N", defaultValue = "0",
            description = "Layers to offload: the last N repeating layers (N > layers also offloads the output layer)")
    int gpuLayers;

    @Option(names = {"-ot", "--override-tensor"}, paramLabel = "REGEX=BUF[,...]",
            description = "Put tensors whose name matches REGEX on buffer BUF (e.g. exps=CPU); repeatable, first match wins")
    List<String> overrides = new ArrayList<>();

    @Option(names = {"-cmoe", "--cpu-moe"}, description = "Keep all mixture-of-experts weights on the CPU")
    boolean cpuMoe;

    @Option(names = {"-ncmoe", "--n-cpu-moe"}, paramLabel = "N", defaultValue = "0",
            description = "Keep the mixture-of-experts weights of the first N layers on the CPU")
    int nCpuMoe;

    @Option(names = {"-dev", "--device"}, paramLabel = "DEV[,...]", split = ",",
            description = "Devices to offload to with -ngl (default: the GPUs found; see --list-devices)")
    List<String> offloadDevices = new ArrayList<>();

    @Option(names = "--no-op-offload", description = "Keep the matmuls of weights in host memory on the CPU even for large batches "
            + "(by default a GPU runs them for batches of 32+ tokens, streaming the weight, as llama.cpp's op offload)")
    boolean noOpOffload;

    @Option(names = {"-sm", "--split-mode"}, paramLabel = "none|layer|row",
            description = "How to split the model over several GPUs (llama.cpp's); panllama drives one GPU: none and layer mean the same")
    String splitMode;

    @Option(names = {"-mg", "--main-gpu"}, paramLabel = "N", description = "The GPU for the model with -sm none (llama.cpp's); panllama drives GPU 0")
    Integer mainGpu;

    @Option(names = {"-ts", "--tensor-split"}, paramLabel = "N0,N1,...", description = "Shares of the model per GPU (llama.cpp's); panllama drives one GPU")
    String tensorSplit;

    @Option(names = {"-nkvo", "--no-kv-offload"}, description = "Keep the KV cache in host memory: the CPU runs attention, also for layers offloaded with -ngl")
    boolean noKvOffload;

    @Option(names = {"-lv", "--verbosity", "--log-verbosity"}, paramLabel = "N",
            description = "Log threshold as llama.cpp's: 0 output only, 1 errors, 2 warnings (panllama's default), 3 information, 4 debug")
    Integer verbosity;

    @Option(names = "--log-disable", description = "Log nothing but errors that end the program (-lv 0)")
    boolean logDisable;

    @Option(names = "--log-verbose", description = "Log everything, debug too (-lv 4)")
    boolean logVerbose;

    @Option(names = "--override-kv", paramLabel = "KEY=TYPE:VALUE",
            description = "Replace a metadata value at load (TYPE int, float, bool or str), e.g. tokenizer.ggml.add_bos_token=bool:false (repeatable)")
    java.util.List<String> overrideKv;

    @Option(names = "--rope-freq-base", paramLabel = "N", description = "RoPE base frequency (default: the model's)")
    Float ropeFreqBase;

    @Option(names = "--rope-freq-scale", paramLabel = "N", description = "RoPE frequency scale: 1/N times the positions (default: the model's)")
    Float ropeFreqScale;

    @Option(names = "--rope-scale", paramLabel = "N", description = "RoPE context scaling factor: --rope-freq-scale 1/N")
    Float ropeScale;

    @Option(names = "--rope-scaling", paramLabel = "none|linear|yarn", description = "RoPE scaling method (default: the model's)")
    String ropeScaling;

    @Option(names = "--yarn-orig-ctx", paramLabel = "N", description = "YaRN: the model's original training context (default: the model's)")
    Integer yarnOrigCtx;

    @Option(names = "--yarn-ext-factor", paramLabel = "N", description = "YaRN: extrapolation mix (default: 1 with YaRN; 0 turns the ramp off)")
    Float yarnExtFactor;

    @Option(names = "--yarn-attn-factor", paramLabel = "N", description = "YaRN: multiplies the attention magnitude (default: 1)")
    Float yarnAttnFactor;

    @Option(names = "--yarn-beta-slow", paramLabel = "N", description = "YaRN: high correction dim, rotations (default: 1)")
    Float yarnBetaSlow;

    @Option(names = "--yarn-beta-fast", paramLabel = "N", description = "YaRN: low correction dim, rotations (default: 32)")
    Float yarnBetaFast;

    @Option(names = {"-v", "--verbose"}, description = "Print what the model is after loading: architecture, size, parameters, type, context, vocabulary")
    boolean verbose;

    @Option(names = "--print-placement", description = "Print which buffer holds each tensor, with totals, after loading")
    boolean printPlacement;

    @Option(names = "--print-splits", description = "Print how one generated token's graph is split over the devices: "
            + "each split's device and nodes, the values copied between devices and the bytes per token")
    boolean printSplits;

    @Option(names = "--print-graph", description = "Print every node of one generated token's graph with its device and the copies between devices")
    boolean printGraph;

    Path modelPath() {
        return model != null ? model : BundledModel.path();
    }

    ModelOptions options(PrintWriter err) {
        // llama.cpp reads -t 0 (and less) as "all cores"; 0 is panllama's default, a negative count is a mistake
        if (threads < 0) throw new IllegalArgumentException("-t " + threads + ": must be 0 (all cores) or more");
        if (threads > 0) ThreadCount.check(threads, "-t", err);
        if (verbosity != null) CliLogging.setVerbosity(verbosity);
        if (logDisable) CliLogging.setVerbosity(0);
        if (logVerbose) CliLogging.setVerbosity(4);
        if (numa != null) {
            for (String w : dev.panllama.util.Numa.init(dev.panllama.util.Numa.Strategy.parse(numa))) err.println("warning: " + w);
        }
        if (threadsBatch < 0) throw new IllegalArgumentException("-tb " + threadsBatch + ": must be 0 (as -t) or more");
        if (threadsBatch > 0) ThreadCount.check(threadsBatch, "-tb", err);
        if (contextSize < 0) throw new IllegalArgumentException("-c " + contextSize + ": must be 0 (the model's context) or more");
        if (batch <= 0) throw new IllegalArgumentException("-b " + batch + ": must be positive");
        if (ubatch <= 0) throw new IllegalArgumentException("-ub " + ubatch + ": must be positive");
        // llama.cpp's multi-GPU flags: accepted where they describe what one GPU does.
        if (splitMode != null && !splitMode.equals("none") && !splitMode.equals("layer")) {
            throw new IllegalArgumentException("-sm " + splitMode + (splitMode.equals("row") ? ": splitting rows over several GPUs is not supported (panllama drives one GPU)" : ": must be none, layer or row"));
        }
        if (mainGpu != null && mainGpu != 0) throw new IllegalArgumentException("-mg " + mainGpu + ": panllama drives one GPU, number 0");
        if (tensorSplit != null) {
            long shares = java.util.Arrays.stream(tensorSplit.split("[,/]")).map(String::strip).filter(x -> !x.isEmpty()).filter(x -> {
                try {
                    return Double.parseDouble(x) > 0;
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("-ts " + tensorSplit + ": '" + x + "' is not a number");
                }
            }).count();
            if (shares > 1) throw new IllegalArgumentException("-ts " + tensorSplit + ": panllama drives one GPU; give it all of the model (or leave -ts out)");
        }
        if (flashAttn != null && !java.util.List.of("on", "off", "auto", "true", "false", "1", "0").contains(flashAttn)) {
            throw new IllegalArgumentException("-fa " + flashAttn + ": must be on, off or auto");
        }
        return ModelOptions.DEFAULTS.withOverrides(overrides()).withThreads(threads).withThreadsBatch(threadsBatch).withContextLength(contextSize).withBatch(batch, ubatch)
                .withMmap(!noMmap).withMlock(mlock).withCacheTypes(cacheType(cacheTypeK, "-ctk"), cacheType(cacheTypeV, "-ctv"))
                .withPlacement(new PlacementSettings(overrides, cpuMoe, nCpuMoe, gpuLayers, offloadDevices, !noOpOffload, !noKvOffload))
                .withProgress(ProgressBar.onTerminal(err, ProgressBar.Units.BYTES));
    }

    /** --override-kv and the rope flags, as metadata values (the rope flags are llama.cpp's shorthands for those keys). */
    private dev.panllama.model.MetadataOverrides overrides() {
        java.util.List<dev.panllama.gguf.GgufEntry> out = new java.util.ArrayList<>();
        if (overrideKv != null) for (String o : overrideKv) out.add(dev.panllama.model.MetadataOverrides.parse(o));
        if (ropeFreqBase != null) {
            if (!(ropeFreqBase > 0)) throw new IllegalArgumentException("--rope-freq-base " + ropeFreqBase + ": must be positive");
            out.add(dev.panllama.model.MetadataOverrides.parse("{arch}.rope.freq_base=float:" + ropeFreqBase));
        }
        if (ropeFreqScale != null && ropeScale != null) throw new IllegalArgumentException("--rope-freq-scale and --rope-scale: give one of them");
        Float scale = ropeScale != null ? Float.valueOf(1f / ropeScale) : ropeFreqScale;
        if (scale != null) {
            if (!(scale > 0) || !Float.isFinite(scale)) throw new IllegalArgumentException("--rope-freq-scale " + scale + ": must be positive");
            out.add(dev.panllama.model.MetadataOverrides.parse("{arch}.rope.scaling.factor=float:" + (1f / scale)));
            if (ropeScaling == null) out.add(dev.panllama.model.MetadataOverrides.parse("{arch}.rope.scaling.type=str:linear"));
        }
        if (ropeScaling != null) {
            if (!java.util.List.of("none", "linear", "yarn").contains(ropeScaling)) {
                throw new IllegalArgumentException("--rope-scaling " + ropeScaling + ": must be none, linear or yarn");
            }
            out.add(dev.panllama.model.MetadataOverrides.parse("{arch}.rope.scaling.type=str:" + ropeScaling));
        }
        if (yarnOrigCtx != null) {
            if (yarnOrigCtx < 1) throw new IllegalArgumentException("--yarn-orig-ctx " + yarnOrigCtx + ": must be positive");
            out.add(dev.panllama.model.MetadataOverrides.parse("{arch}.rope.scaling.original_context_length=int:" + yarnOrigCtx));
        }
        yarn(out, "--yarn-ext-factor", "yarn_ext_factor", yarnExtFactor, false);
        yarn(out, "--yarn-attn-factor", "yarn_attn_factor", yarnAttnFactor, true);
        yarn(out, "--yarn-beta-slow", "yarn_beta_slow", yarnBetaSlow, true);
        yarn(out, "--yarn-beta-fast", "yarn_beta_fast", yarnBetaFast, true);
        return new dev.panllama.model.MetadataOverrides(out);
    }

    /** A --yarn-* flag as llama.cpp's rope.scaling.yarn_* key of the model's architecture. */
    private static void yarn(java.util.List<dev.panllama.gguf.GgufEntry> out, String flag, String key, Float value, boolean positive) {
        if (value == null) return;
        if (!Float.isFinite(value) || (positive ? value <= 0 : value < 0)) {
            throw new IllegalArgumentException(flag + " " + value + ": must be " + (positive ? "positive" : "0 or more"));
        }
        out.add(dev.panllama.model.MetadataOverrides.parse("{arch}.rope.scaling." + key + "=float:" + value));
    }

    /** Loads the model for sessions of the default context (-c, else the model's); see {@link #load(PrintWriter, int)}. */
    Model load(PrintWriter err) throws IOException {
        return load(err, 0);
    }

    /**
     * Loads the model; prints the placement when asked, and its warnings always. Refuses a context
     * whose KV cache memory cannot hold before any session allocates it.
     *
     * @param sessionContext the context the command's sessions will have when -c is 0 (0: the model's default)
     */
    Model load(PrintWriter err, int sessionContext) throws IOException {
        Path path = modelPath();
        CliFiles.requireInput(path, "a model file", true);
        if (vocabFrom != null) {
            // checked before the file itself: with a GGUF model the option is the mistake, whether the file exists or not
            if (!Files.isDirectory(path)) {
                throw new IllegalArgumentException("--vocab-from " + vocabFrom + ": " + (Files.exists(vocabFrom) ? "" : "no such file, and ")
                        + "only for a Hugging Face model directory (-m DIR); " + path + " is a GGUF file with its own tokenizer");
            }
            CliFiles.requireInput(vocabFrom, "a GGUF file", false);
        }
        ModelOptions options = options(err);
        Model m = Model.load(path, options, vocabFrom);
        try {
            int ctx = contextSize > 0 ? contextSize : sessionContext > 0 ? sessionContext : m.defaultContextLength();
            MemoryBudget.checkKvCache(m, ctx, contextSize > 0 ? "-c " + contextSize : "the default context of " + ctx + " tokens");
            if (ctx > m.config().contextLength()) {
                // llama.cpp allows it too (with the same warning): positions past training may give worse text
                err.println("warning: -c " + ctx + " is more than the " + m.config().contextLength()
                        + " tokens the model was trained with; quality may drop past them");
            }
            if (verbose) {
                // What llama.cpp prints at load (print_info): people check this first.
                var d = dev.panllama.model.ModelDescription.of(m);
                double p = d.params();
                String params = p >= 1e9 ? String.format(java.util.Locale.ROOT, "%.2f B", p / 1e9)
                        : p >= 1e6 ? String.format(java.util.Locale.ROOT, "%.2f M", p / 1e6) : String.format(java.util.Locale.ROOT, "%.1f K", p / 1e3);
                err.printf(java.util.Locale.ROOT, "model: %s | %s | %s params | %.2f MiB%n", m.path().getFileName(), d, params, d.bytes() / 1048576.0);
                err.println("model: " + m.config().describe());
                String extra = m.describeArchitecture();
                if (!extra.isEmpty()) err.println("model: " + extra);
                err.printf("model: context %d tokens (trained %d), vocabulary %d tokens, %s%n", ctx, m.config().contextLength(),
                        m.tokenizer().vocabSize(), m.description());
            }
            if (printPlacement) err.print(m.placement().report());
            else m.placement().notes().forEach(n -> err.println("warning: " + n));
            if (printGraph) {
                err.println("graph of one generated token (node, device, op(weight) [inputs] -> [outputs]):");
                err.print(m.schedule(1).describeNodes(m.plan()));
            }
            if (printSplits) {
                err.println("graph of one generated token:");
                err.print(m.schedule(1).describe(m.plan()));
            }
            err.flush();
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    static GgmlType cacheType(String name, String flag) {
        GgmlType t = GgmlType.byName(name);
        if (t == null || !dev.panllama.kv.KvCache.TYPES.contains(t)) {
            throw new IllegalArgumentException(flag + " " + name + ": unsupported KV cache type (use " + dev.panllama.kv.KvCache.TYPE_NAMES + ")");
        }
        return t;
    }
}
