package dev.panllama.model;

import dev.panllama.backend.Device;
import dev.panllama.backend.DeviceSet;
import dev.panllama.gguf.GgufLoadOptions;
import dev.panllama.gguf.GgufMetadata;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.gguf.TensorSource;
import dev.panllama.kv.KvCache;
import dev.panllama.scheduler.ExecutionPlan;
import dev.panllama.scheduler.Placement;
import dev.panllama.scheduler.Schedule;
import dev.panllama.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A loaded model: the mapped GGUF, its configuration and weights, and the kernels that run it. Create
 * {@link Session}s to evaluate tokens. Closing the model unmaps the weights; close its sessions first.
 *
 * <p>Sessions of one model may run on different threads at once (a server's slots): their forward
 * passes take turns on one fair lock, a micro-batch at a time. The kernels cannot run two passes at
 * once: the CPU backend's worker pool runs one parallel loop at a time and its activation buffers are
 * shared; and one pass already spreads its matrix products over every core.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("model.gguf"), ModelOptions.DEFAULTS.withThreads(2));
 *      Session s = model.newSession()) {
 *     float[] logits = s.evaluate(1, 403, 407, 261, 378);
 * }
 * }</pre>
 */
public final class Model implements AutoCloseable {
    /** llama.cpp's default context when -c is not given (the model's own may be far larger). */
    public static final int DEFAULT_CONTEXT = 4096;

    private final Path path;
    private final TensorSource gguf;
    private final ModelConfig config;
    private final ArchitectureWeights weights;
    private final Tokenizer tokenizer;
    private final DeviceSet devices;
    private final ExecutionPlan plan;
    private final ModelOptions options;
    private final long loadMillis;
    /** Held by a session for each forward pass; fair, so that concurrent sessions alternate token by token. */
    private final ReentrantLock forwardLock = new ReentrantLock(true);

    private Model(Path path, TensorSource gguf, ModelConfig config, ArchitectureWeights weights, Tokenizer tokenizer,
                  DeviceSet devices, ExecutionPlan plan, ModelOptions options, long loadMillis) {
        this.path = path;
        this.gguf = gguf;
        this.config = config;
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.devices = devices;
        this.plan = plan;
        this.options = options;
        this.loadMillis = loadMillis;
    }

    public static Model load(Path path, ModelOptions options) throws IOException {
        return load(path, options, null);
    }

    /**
     * Loads a GGUF file, an FP8 GGUF or a Hugging Face model directory; the FP8 weights of the last two
     * are converted to Q8_0 as they load (see {@link ModelConverter}).
     *
     * @param vocabFrom for a Hugging Face directory, a GGUF whose tokenizer replaces tokenizer.json; may be null
     */
    public static Model load(Path path, ModelOptions options, Path vocabFrom) throws IOException {
        long start = System.nanoTime();
        GgufLoadOptions lo = GgufLoadOptions.MODEL.withMmap(options.mmap()).withMlock(options.mlock())
                .withProgress(options.progress());
        TensorSource opened = ModelFiles.open(path, lo, options.effectiveThreads(), vocabFrom);
        TensorSource gguf = options.overrides().isEmpty() ? opened : new Overridden(opened, options.overrides().apply(opened.metadata()));
        try {
            GgufMetadata md = gguf.metadata();
            long vocabRows = gguf.findTensor("token_embd.weight")
                    .orElseThrow(() -> new IllegalArgumentException("missing tensor 'token_embd.weight'")).ne(1);
            ModelConfig config = ModelConfig.fromMetadata(md, vocabRows);
            ArchitectureWeights weights = ArchitectureWeights.load(gguf, config);
            Tokenizer tokenizer = Tokenizer.fromMetadata(md);
            if (tokenizer.vocabSize() > config.vocabSize()) {
                // A token id past the embedding rows would have no embedding (llama.cpp requires the counts to match).
                throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " tokens (tokenizer.ggml.tokens), but tensor "
                        + "'token_embd.weight' has " + config.vocabSize() + " rows");
            }
            DeviceSet devices = DeviceSet.discover(options.effectiveThreads(), options.effectiveThreadsBatch());
            try {
                Placement placement = Placement.plan(gguf.tensors(), config.blockCount(), options.placement(), devices);
                ExecutionPlan plan = ExecutionPlan.of(placement, devices);
                weights = weights.placed(name -> devices.get(placement.deviceOf(name)));
                long ms = (System.nanoTime() - start) / 1_000_000;
                return new Model(path, gguf, config, weights, tokenizer, devices, plan, options, ms);
            } catch (RuntimeException e) {
                devices.close();
                throw e;
            }
        } catch (RuntimeException e) {
            gguf.close();
            throw new IOException(path + ": " + e.getMessage(), e);
        }
    }

    public Path path() { return path; }

    public ModelConfig config() { return config; }

    public GgufMetadata metadata() { return gguf.metadata(); }

    /** The mapped file of a model loaded from a plain GGUF; fails for one converted at load. */
    public MappedGguf gguf() {
        TensorSource g = gguf instanceof Overridden o ? o.source() : gguf;
        if (g instanceof MappedGguf m) return m;
        throw new IllegalStateException(path + " was converted as it loaded; its tensors are in source()");
    }

    /** A source whose metadata has --override-kv's values in place: everything reads them. */
    private record Overridden(TensorSource source, GgufMetadata metadata) implements TensorSource {
        @Override
        public String displayName() { return source.displayName(); }

        @Override
        public java.util.List<dev.panllama.tensor.Tensor> tensors() { return source.tensors(); }

        @Override
        public java.util.Optional<dev.panllama.tensor.Tensor> findTensor(String name) { return source.findTensor(name); }

        @Override
        public void close() { source.close(); }
    }

    /** Where the weights come from: the mapped GGUF, or the tensors converted at load. */
    public TensorSource source() { return gguf; }

    public Tokenizer tokenizer() { return tokenizer; }

    /** The devices discovered at load (the ones the plan uses and the others). */
    public DeviceSet devices() { return devices; }

    /** Where each weight lives and which device runs each op. */
    public ExecutionPlan plan() { return plan; }

    public Placement placement() { return plan.placement(); }

    /** What runs the model, for logs: the CPU device, plus the others when the model is split. */
    public String description() {
        StringBuilder sb = new StringBuilder(devices.cpu().description());
        for (int i = 1; i < plan.deviceCount(); i++) sb.append(" + ").append(plan.device(i).name());
        return sb.toString();
    }

    public ModelOptions options() { return options; }

    /** Wall time of {@link #load}, in milliseconds. */
    public long loadMillis() { return loadMillis; }

    /** Context length a session gets by default: -c, else the model's capped at {@link #DEFAULT_CONTEXT}. */
    public int defaultContextLength() {
        return options.contextLength() > 0 ? options.contextLength() : Math.min(config.contextLength(), DEFAULT_CONTEXT);
    }

    public Session newSession() {
        return newSession(defaultContextLength());
    }

    /** A session with an empty KV cache of {@code contextLength} positions, run by the architecture's forward pass. */
    public Session newSession(int contextLength) {
        KvCache cache = weights.newCache(contextLength, options.cacheTypeK(), options.cacheTypeV(), cacheOnHost());
        return new Session(new ForwardPass(config, plan, weights.newGraphBuilder()), cache, options.ubatch(), forwardLock, weights.keyRope());
    }

    /**
     * A decoder that evaluates several sessions' tokens in one pass (continuous batching), up to -ub
     * tokens at a time; its passes take turns with the sessions' own on the model's lock.
     */
    public BatchDecoder newBatchDecoder() {
        return new BatchDecoder(new ForwardPass(config, plan, weights.newGraphBuilder()), forwardLock, options.ubatch());
    }

    /**
     * How a micro-batch of {@code tokens} tokens would be split over the devices (what
     * {@code --print-splits} shows); builds the graph without running it.
     */
    public Schedule schedule(int tokens) {
        try (KvCache cache = weights.newCache(tokens, options.cacheTypeK(), options.cacheTypeV(), cacheOnHost())) {
            Batch b = Batch.single(new int[tokens], 0, tokens, 0, cache, tokens - 1, new float[config.vocabSize()]);
            return Schedule.of(weights.newGraphBuilder().build(b), plan);
        }
    }

    /**
     * Host bytes the KV cache of a session of {@code contextLength} positions takes, in the -ctk /
     * -ctv types; nothing is allocated, so a tool can refuse a context that memory cannot hold.
     */
    public long kvCacheBytes(int contextLength) {
        int hostLayers = 0;
        for (boolean h : cacheOnHost()) if (h) hostLayers++;
        return weights.cacheBytes(contextLength, options.cacheTypeK(), options.cacheTypeV(), hostLayers);
    }

    /** Per layer, whether the host holds its KV cache: not when its device keeps the cache in its own memory. */
    private boolean[] cacheOnHost() {
        boolean[] host = new boolean[config.blockCount()];
        for (int l = 0; l < host.length; l++) {
            Device d = plan.device(plan.deviceIndex(weights.cacheWeight(l)));
            host[l] = d.isHost() || !d.keepsKvCache(options.cacheTypeK(), options.cacheTypeV());
        }
        return host;
    }

    /** What {@link ModelConfig#describe} leaves out for this architecture (empty for the llama family). */
    public String describeArchitecture() { return weights.describe(); }

    @Override
    public void close() {
        devices.close();
        gguf.close();
    }
}
