package dev.panllama.model;

import dev.panllama.backend.DeviceSet;
import dev.panllama.gguf.GgufLoadOptions;
import dev.panllama.gguf.GgufMetadata;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.scheduler.ExecutionPlan;
import dev.panllama.scheduler.Placement;
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
    private final MappedGguf gguf;
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Tokenizer tokenizer;
    private final DeviceSet devices;
    private final ExecutionPlan plan;
    private final ModelOptions options;
    private final long loadMillis;
    /** Held by a session for each forward pass; fair, so that concurrent sessions alternate token by token. */
    private final ReentrantLock forwardLock = new ReentrantLock(true);

    private Model(Path path, MappedGguf gguf, ModelConfig config, ModelWeights weights, Tokenizer tokenizer,
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
        long start = System.nanoTime();
        GgufLoadOptions lo = GgufLoadOptions.MODEL.withMmap(options.mmap()).withMlock(options.mlock())
                .withProgress(options.progress());
        MappedGguf gguf = MappedGguf.open(path, lo);
        try {
            GgufMetadata md = gguf.metadata();
            long vocabRows = gguf.tensor("token_embd.weight").ne(1);
            ModelConfig config = ModelConfig.fromMetadata(md, Math.toIntExact(vocabRows));
            ModelWeights weights = ModelWeights.load(gguf, config);
            Tokenizer tokenizer = Tokenizer.fromMetadata(md);
            DeviceSet devices = DeviceSet.discover(options.effectiveThreads());
            try {
                Placement placement = Placement.plan(gguf.tensors(), config.blockCount(), options.placement(), devices);
                ExecutionPlan plan = ExecutionPlan.of(placement, config, devices);
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

    public MappedGguf gguf() { return gguf; }

    public ModelWeights weights() { return weights; }

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

    public Session newSession(int contextLength) {
        checkCacheType(options.cacheTypeK(), config.headDimK(), "-ctk");
        checkCacheType(options.cacheTypeV(), config.headDimV(), "-ctv");
        KvCache cache = new KvCache(config.blockCount(), contextLength, config.kvDimK(), config.kvDimV(),
                options.cacheTypeK(), options.cacheTypeV());
        return new Session(new Transformer(config, weights, plan), cache, options.ubatch(), forwardLock);
    }

    /** Each head's keys (values) must fill whole blocks of the cache type, as llama.cpp requires too. */
    private static void checkCacheType(dev.panllama.tensor.GgmlType type, int headDim, String flag) {
        if (headDim % type.blockSize() != 0) {
            throw new IllegalArgumentException(flag + " " + type.ggmlName() + " needs attention heads whose size is a multiple of "
                    + type.blockSize() + "; this model's are " + headDim);
        }
    }

    @Override
    public void close() {
        devices.close();
        gguf.close();
    }
}
