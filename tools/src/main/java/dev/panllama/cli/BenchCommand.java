package dev.panllama.cli;

import dev.panllama.model.Model;
import dev.panllama.model.ModelDescription;
import dev.panllama.model.ModelOptions;
import dev.panllama.scheduler.PlacementSettings;
import dev.panllama.model.Session;
import dev.panllama.tensor.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code panllama bench}: llama-bench (mainline tools/llama-bench, c392e50). For each model and
 * combination of options, a pp test (n_prompt tokens in batches of -b, from an empty cache, BOS first
 * then random ids) and a tg test (n_gen tokens one at a time, BOS then random ids), each timed -r times
 * after one warm-up run; t/s = tokens / time per repetition, reported as mean ± sample stddev.
 * llama-bench's warm-up evaluates the prompt and one generated token; here it repeats the whole test,
 * untimed, for 2 s (at least once), because the JIT compiles the kernels meanwhile (a first run of tg32
 * on bench-moe ran at half the speed of the next ones, and the mean of -r 3 swung by ±30%; stories260K's
 * pp128 took some 30 runs to reach its speed). Start-up speed is not hidden: {@code run} reports the
 * first prompt and tokens, and --no-warmup times them here.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Prompt processing (pp) and generation (tg) speed, as llama-bench measures it.",
                "Every option takes a comma list (or is repeated); numbers also take ranges FIRST-LAST[+STEP|*FACTOR].",
                "Each -ot flag is one placement variant (its value a comma list of REGEX=BUF rules)."})
final class BenchCommand extends ToolCommand {
    @Option(names = {"-m", "--model"}, paramLabel = "FILE[,FILE...]", description = "GGUF models (default: the bundled stories260K.gguf)")
    List<String> models = new ArrayList<>();

    @Option(names = {"-p", "--n-prompt"}, paramLabel = "N", description = "prompt tokens of the pp tests; 0 = none (default: 512)")
    List<String> nPrompt = new ArrayList<>();

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N", description = "generated tokens of the tg tests; 0 = none (default: 128)")
    List<String> nGen = new ArrayList<>();

    @Option(names = "-pg", paramLabel = "PP,TG", description = "a test of PP prompt tokens then TG generated ones (default: none)")
    List<String> promptGen = new ArrayList<>();

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", description = "logical batch: prompt tokens per evaluate call (default: 2048)")
    List<String> batch = new ArrayList<>();

    @Option(names = {"-ub", "--ubatch-size"}, paramLabel = "N", description = "physical batch: tokens per forward pass (default: 512)")
    List<String> ubatch = new ArrayList<>();

    @Option(names = {"-ctk", "--cache-type-k"}, paramLabel = "TYPE", description = "KV cache type for K (default: f16)")
    List<String> cacheTypeK = new ArrayList<>();

    @Option(names = {"-ctv", "--cache-type-v"}, paramLabel = "TYPE", description = "KV cache type for V (default: f16)")
    List<String> cacheTypeV = new ArrayList<>();

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "CPU threads (default: all cores)")
    List<String> threads = new ArrayList<>();

    @Option(names = {"-mmp", "--mmap"}, paramLabel = "0|1", description = "map the model (1) or read it into memory (0) (default: 1)")
    List<String> mmap = new ArrayList<>();

    @Option(names = "--no-mmap", description = "read the models into memory: the same as -mmp 0")
    boolean noMmap;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", defaultValue = "5", description = "timed runs per test (default: ${DEFAULT-VALUE})")
    int repetitions;

    @Option(names = {"-o", "--output"}, paramLabel = "md|json|csv", defaultValue = "md", description = "output format (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--progress", description = "print each run's start on stderr")
    boolean progress;

    @Option(names = "--no-warmup", description = "skip the warm-up runs (2 s of the test, untimed, while the JIT compiles the kernels)")
    boolean noWarmup;

    @Option(names = {"-ngl", "--n-gpu-layers"}, paramLabel = "N", description = "layers to offload (with -dev, or to the GPUs found) (default: 0)")
    List<String> gpuLayers = new ArrayList<>();

    @Option(names = {"-ot", "--override-tensor"}, paramLabel = "REGEX=BUF[,...]", description = "tensor placement rules, one variant per flag (default: none)")
    List<String> overrideTensors = new ArrayList<>();

    @Option(names = {"-dev", "--device"}, paramLabel = "DEV[,...]", split = ",", description = "devices -ngl offloads to (default: the GPUs found)")
    List<String> devices = new ArrayList<>();

    @Option(names = {"-nopo", "--no-op-offload"}, description = "keep large batches' matmuls of host weights on the CPU (default: a GPU streams them)")
    boolean noOpOffload;

    @Option(names = {"-cmoe", "--cpu-moe"}, description = "keep all mixture-of-experts weights on the CPU")
    boolean cpuMoe;

    /** One test: a model, its options and a shape. */
    private record Instance(Path model, boolean mmap, int batch, int ubatch, GgmlType typeK, GgmlType typeV, int threads,
                            PlacementSettings placement, int nPrompt, int nGen) {
        ModelOptions options() {
            return ModelOptions.DEFAULTS.withThreads(threads).withBatch(batch, ubatch).withMmap(mmap).withCacheTypes(typeK, typeV)
                    .withPlacement(placement);
        }
    }

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        if (repetitions < 1) throw new IllegalArgumentException("-r must be at least 1, not " + repetitions);
        List<Instance> instances = instances();
        BenchResult.Machine machine = new BenchResult.Machine(BuildInfo.load().benchCommit(), cpuInfo());
        BenchOutput output = BenchOutput.create(format, out, machine, extraColumns());
        output.header();
        out.flush();
        Model loaded = null;
        Instance loadedFor = null;
        Set<String> kernels = new LinkedHashSet<>();
        try {
            for (int i = 0; i < instances.size(); i++) {
                Instance inst = instances.get(i);
                if (loaded == null || !sameModelOptions(inst, loadedFor)) {
                    if (loaded != null) loaded.close();
                    loaded = null;
                    loaded = Model.load(inst.model(), inst.options());
                    loadedFor = inst;
                    kernels.add(loaded.description());
                }
                String where = (i + 1) + "/" + instances.size();
                output.test(run(loaded, inst, where, err));
            }
        } finally {
            if (loaded != null) loaded.close();
        }
        output.footer(kernels);
        out.flush();
        return 0;
    }

    /** The warm-up repeats the test until this much time has passed (at least once). */
    private static final long WARMUP_NANOS = 2_000_000_000L;

    private BenchResult run(Model model, Instance inst, String where, PrintWriter err) {
        String testTime = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        SplittableRandom random = new SplittableRandom(1);
        long[] samples = new long[repetitions];
        int ctx = Math.addExact(inst.nPrompt(), inst.nGen());
        MemoryBudget.checkKvCache(model, ctx, "-p " + inst.nPrompt() + " -n " + inst.nGen());
        try (Session s = model.newSession(ctx)) {
            // At least one whole run, repeated for WARMUP_NANOS: a test of a tiny model runs in milliseconds,
            // and the JIT needs many of them before it has compiled the kernels.
            long warmStart = System.nanoTime();
            for (int w = 0; !noWarmup && (w == 0 || System.nanoTime() - warmStart < WARMUP_NANOS); w++) {
                report(err, where, "warmup run " + (w + 1));
                s.clear();
                if (inst.nPrompt() > 0) prompt(s, model, inst.nPrompt(), inst.batch(), random);
                if (inst.nGen() > 0) generate(s, model, inst.nGen(), random);
            }
            for (int r = 0; r < repetitions; r++) {
                report(err, where, "run " + (r + 1) + "/" + repetitions);
                s.clear();
                long t0 = System.nanoTime();
                if (inst.nPrompt() > 0) prompt(s, model, inst.nPrompt(), inst.batch(), random);
                if (inst.nGen() > 0) generate(s, model, inst.nGen(), random);
                samples[r] = System.nanoTime() - t0;
            }
        }
        List<String> used = new ArrayList<>();
        for (int d = 0; d < model.plan().deviceCount(); d++) used.add(model.plan().device(d).name());
        return new BenchResult(inst.model().toString(), ModelDescription.of(model), inst.batch(), Math.min(inst.batch(), inst.ubatch()),
                inst.threads(), inst.typeK(), inst.typeV(), inst.mmap(), inst.placement().gpuLayers(), String.join(",", used),
                inst.nPrompt(), inst.nGen(), testTime, samples);
    }

    /** llama-bench's test_prompt: batches of n_batch ids, BOS first when the model adds it. */
    private static void prompt(Session s, Model model, int n, int batch, SplittableRandom random) {
        int vocab = s.vocabSize();
        for (int done = 0; done < n; ) {
            int[] tokens = new int[Math.min(batch, n - done)];
            for (int i = 0; i < tokens.length; i++) tokens[i] = random.nextInt(vocab);
            if (done == 0 && model.tokenizer().addBos()) tokens[0] = model.tokenizer().bos();
            s.evaluate(tokens);
            done += tokens.length;
        }
    }

    /** llama-bench's test_gen: one token per evaluation, BOS (or a random id) first, then random ids. */
    private static void generate(Session s, Model model, int n, SplittableRandom random) {
        int vocab = s.vocabSize();
        int token = model.tokenizer().addBos() ? model.tokenizer().bos() : random.nextInt(vocab);
        for (int i = 0; i < n; i++) {
            s.evaluate(token);
            token = random.nextInt(vocab);
        }
    }

    private void report(PrintWriter err, String where, String what) {
        if (!progress) return;
        err.println("panllama bench: benchmark " + where + ": " + what);
        err.flush();
    }

    /** The tests in llama-bench's order: per model and option combination, pp tests, then tg, then pp+tg. */
    private List<Instance> instances() {
        List<Path> paths = models.isEmpty() ? List.of(BundledModel.path())
                : ValueLists.strings(models, "-m").stream().map(Path::of).toList();
        for (Path p : paths) {
            if (!Files.exists(p)) throw new IllegalArgumentException(p + ": no such model file");
            CliFiles.requireInput(p, "a GGUF model file", false);
        }
        List<Integer> prompts = positive(ValueLists.ints(or(nPrompt, "512"), "-p"), "-p", true);
        List<Integer> gens = positive(ValueLists.ints(or(nGen, "128"), "-n"), "-n", true);
        List<int[]> pgs = promptGenPairs();
        List<Integer> batches = positive(ValueLists.ints(or(batch, "2048"), "-b"), "-b", false);
        List<Integer> ubatches = positive(ValueLists.ints(or(ubatch, "512"), "-ub"), "-ub", false);
        List<GgmlType> typesK = cacheTypes(or(cacheTypeK, "f16"), "-ctk");
        List<GgmlType> typesV = cacheTypes(or(cacheTypeV, "f16"), "-ctv");
        List<Integer> threadCounts = positive(ValueLists.ints(or(threads, Integer.toString(ThreadCount.cores())), "-t"), "-t", false);
        for (int t : threadCounts.stream().distinct().toList()) ThreadCount.check(t, "-t", spec.commandLine().getErr());
        List<Boolean> mmaps = mmapValues();
        List<Integer> ngls = positive(ValueLists.ints(or(gpuLayers, "0"), "-ngl"), "-ngl", true);
        List<List<String>> rules = overrideTensors.isEmpty() ? List.of(List.of()) : overrideTensors.stream().map(List::of).toList();
        List<PlacementSettings> placements = new ArrayList<>();
        for (int ngl : ngls) {
            for (List<String> r : rules) placements.add(new PlacementSettings(r, cpuMoe, 0, ngl, devices, !noOpOffload));
        }

        List<Instance> out = new ArrayList<>();
        for (Path m : paths)
            for (boolean mm : mmaps)
                for (int b : batches)
                    for (int ub : ubatches)
                        for (GgmlType tk : typesK)
                            for (GgmlType tv : typesV)
                                for (int t : threadCounts)
                                    for (PlacementSettings pl : placements) {
                                        for (int p : prompts) if (p > 0) out.add(new Instance(m, mm, b, ub, tk, tv, t, pl, p, 0));
                                        for (int n : gens) if (n > 0) out.add(new Instance(m, mm, b, ub, tk, tv, t, pl, 0, n));
                                        for (int[] pg : pgs) if (pg[0] + pg[1] > 0) out.add(new Instance(m, mm, b, ub, tk, tv, t, pl, pg[0], pg[1]));
                                    }
        return out;
    }

    /** -pg takes pairs: "-pg 512,128" is one test, "-pg 512,128 -pg 1024,256" two. */
    private List<int[]> promptGenPairs() {
        List<int[]> pairs = new ArrayList<>();
        for (String v : promptGen) {
            List<Integer> pair = ValueLists.ints(List.of(v), "-pg");
            if (pair.size() != 2) throw new IllegalArgumentException("-pg " + v + ": expected PP,TG");
            pairs.add(new int[]{pair.get(0), pair.get(1)});
        }
        return pairs;
    }

    private List<Boolean> mmapValues() {
        if (noMmap) {
            if (!mmap.isEmpty()) throw new IllegalArgumentException("give either --no-mmap or -mmp, not both");
            return List.of(false);
        }
        return ValueLists.bools(or(mmap, "1"), "-mmp");
    }

    /** The md columns llama-bench adds: options given a non-default value or more than one value. */
    private List<String> extraColumns() {
        List<String> cols = new ArrayList<>();
        if (!batch.isEmpty() && !ValueLists.ints(batch, "-b").equals(List.of(2048))) cols.add("n_batch");
        if (!ubatch.isEmpty() && !ValueLists.ints(ubatch, "-ub").equals(List.of(512))) cols.add("n_ubatch");
        if (!cacheTypeK.isEmpty() && !cacheTypes(cacheTypeK, "-ctk").equals(List.of(GgmlType.F16))) cols.add("type_k");
        if (!cacheTypeV.isEmpty() && !cacheTypes(cacheTypeV, "-ctv").equals(List.of(GgmlType.F16))) cols.add("type_v");
        if (!mmapValues().equals(List.of(true))) cols.add("use_mmap");
        if (!gpuLayers.isEmpty()) cols.add("n_gpu_layers");
        return cols;
    }

    private static boolean sameModelOptions(Instance a, Instance b) {
        return a.model().equals(b.model()) && a.options().equals(b.options());
    }

    private static List<String> or(List<String> given, String dflt) {
        return given.isEmpty() ? List.of(dflt) : given;
    }

    private static List<Integer> positive(List<Integer> values, String flag, boolean zeroAllowed) {
        for (int v : values) {
            if (v < 0 || (v == 0 && !zeroAllowed)) {
                throw new IllegalArgumentException(flag + " " + v + ": must be " + (zeroAllowed ? "0 or more" : "positive"));
            }
        }
        return values;
    }

    private static List<GgmlType> cacheTypes(List<String> names, String flag) {
        return ValueLists.strings(names, flag).stream().map(n -> ModelOptionsMixin.cacheType(n, flag)).toList();
    }

    /** The "model name" line of /proc/cpuinfo, as llama-bench's cpu_info; empty elsewhere. */
    private static String cpuInfo() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    int colon = line.indexOf(':');
                    if (colon >= 0) return line.substring(colon + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable: llama-bench leaves the field empty too
        }
        return "";
    }
}
