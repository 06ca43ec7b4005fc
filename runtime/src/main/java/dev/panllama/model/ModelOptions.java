package dev.panllama.model;

import dev.panllama.scheduler.PlacementSettings;
import dev.panllama.tensor.GgmlType;
import dev.panllama.util.ProgressListener;

/**
 * How to load and run a model; defaults follow llama.cpp's (-c from the model up to 4096, -b 2048,
 * -ub 512, F16 KV cache, mmap on, mlock off).
 *
 * @param threads       CPU threads for the kernels (-t); 0 = all cores
 * @param contextLength tokens of KV cache per session (-c); 0 = the model's, capped at 4096
 * @param batch         logical batch (-b): the most tokens given to one evaluate call by the tools
 * @param ubatch        physical micro-batch (-ub): tokens per forward pass
 * @param placement     which device holds each weight (-ngl, -ot, --cpu-moe, -dev)
 * @param threadsBatch  CPU threads for prompt batches (-tb); 0 = as {@code threads}
 */
public record ModelOptions(int threads, int contextLength, int batch, int ubatch, boolean mmap, boolean mlock,
                           GgmlType cacheTypeK, GgmlType cacheTypeV, PlacementSettings placement, ProgressListener progress,
                           MetadataOverrides overrides, int threadsBatch) {

    public ModelOptions(int threads, int contextLength, int batch, int ubatch, boolean mmap, boolean mlock,
                        GgmlType cacheTypeK, GgmlType cacheTypeV, PlacementSettings placement, ProgressListener progress) {
        this(threads, contextLength, batch, ubatch, mmap, mlock, cacheTypeK, cacheTypeV, placement, progress, MetadataOverrides.NONE, 0);
    }

    /** Metadata values that replace the file's ({@code --override-kv}). */
    public ModelOptions withOverrides(MetadataOverrides o) {
        return new ModelOptions(threads, contextLength, batch, ubatch, mmap, mlock, cacheTypeK, cacheTypeV, placement, progress, o, threadsBatch);
    }

    public static final ModelOptions DEFAULTS = new ModelOptions(0, 0, 2048, 512, true, false,
            GgmlType.F16, GgmlType.F16, PlacementSettings.CPU_ONLY, ProgressListener.NONE);

    public ModelOptions {
        if (overrides == null) overrides = MetadataOverrides.NONE;
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, not " + threads);
        if (threadsBatch < 0) throw new IllegalArgumentException("batch threads must be >= 0, not " + threadsBatch);
        if (contextLength < 0) throw new IllegalArgumentException("context length must be >= 0, not " + contextLength);
        if (batch <= 0 || ubatch <= 0) throw new IllegalArgumentException("batch sizes must be positive");
    }

    public ModelOptions withThreads(int t) { return new ModelOptions(t, contextLength, batch, ubatch, mmap, mlock, cacheTypeK, cacheTypeV, placement, progress, overrides, threadsBatch); }

    public ModelOptions withContextLength(int c) { return new ModelOptions(threads, c, batch, ubatch, mmap, mlock, cacheTypeK, cacheTypeV, placement, progress, overrides, threadsBatch); }

    public ModelOptions withBatch(int b, int ub) { return new ModelOptions(threads, contextLength, b, Math.min(b, ub), mmap, mlock, cacheTypeK, cacheTypeV, placement, progress, overrides, threadsBatch); }

    public ModelOptions withMmap(boolean m) { return new ModelOptions(threads, contextLength, batch, ubatch, m, mlock, cacheTypeK, cacheTypeV, placement, progress, overrides, threadsBatch); }

    public ModelOptions withMlock(boolean m) { return new ModelOptions(threads, contextLength, batch, ubatch, mmap, m, cacheTypeK, cacheTypeV, placement, progress, overrides, threadsBatch); }

    public ModelOptions withCacheTypes(GgmlType k, GgmlType v) { return new ModelOptions(threads, contextLength, batch, ubatch, mmap, mlock, k, v, placement, progress, overrides, threadsBatch); }

    public ModelOptions withProgress(ProgressListener p) { return new ModelOptions(threads, contextLength, batch, ubatch, mmap, mlock, cacheTypeK, cacheTypeV, placement, p, overrides, threadsBatch); }

    public ModelOptions withPlacement(PlacementSettings p) { return new ModelOptions(threads, contextLength, batch, ubatch, mmap, mlock, cacheTypeK, cacheTypeV, p, progress, overrides, threadsBatch); }

    /** CPU threads for prompt batches (llama.cpp's -tb); 0 = as many as for generation. */
    public ModelOptions withThreadsBatch(int t) {
        return new ModelOptions(threads, contextLength, batch, ubatch, mmap, mlock, cacheTypeK, cacheTypeV, placement, progress, overrides, t);
    }

    /** Resolved thread count for prompt batches. */
    public int effectiveThreadsBatch() {
        return threadsBatch > 0 ? threadsBatch : effectiveThreads();
    }

    /** Resolved thread count. */
    public int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
