package dev.panllama.gpu;

import dev.panllama.kv.KvCache;
import jcuda.driver.CUdeviceptr;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The KV caches of the layers whose attention runs on this device, per (cache, layer): a layer's
 * buffers ({@code contextLength} rows of K, and of V unless the cache is latent) are allocated at its
 * first use. F16 and F32 rows are written here by the graph's KV store ({@link #forStore}) and live only
 * on the device; other types are encoded on the host, and each attention call first uploads the rows
 * {@link KvRows} names (normally just the micro-batch's).
 *
 * <p>Caches are looked up in a WeakHashMap, so holding a mirror does not keep a session's cache alive.
 * A mirror's device memory is freed at the next attention call after its cache was closed or
 * collected, and on device close.
 */
final class KvMirrors {
    /** A layer's rows on the device. For a latent cache {@code v == k}. */
    record Layer(CUdeviceptr k, CUdeviceptr v) {}

    private static final class Mirror {
        final WeakReference<KvCache> cache;
        final MemorySegment.Scope scope;      // the cache's memory: not alive once the cache is closed
        KvRows rows;
        int shifts;            // the cache's shifts when rows were last valid: a context shift rewrites host rows
        final Layer[] layers;

        Mirror(KvCache c) {
            cache = new WeakReference<>(c);
            scope = c.keys().scope();
            rows = new KvRows(c.layers(), c.contextLength());
            shifts = c.shifts();
            layers = new Layer[c.layers()];
        }

        boolean dead() {
            return cache.get() == null || !scope.isAlive();
        }
    }

    private final CudaContext ctx;
    private final Map<KvCache, Mirror> byCache = new WeakHashMap<>();
    private final List<Mirror> all = new ArrayList<>();

    KvMirrors(CudaContext ctx) {
        this.ctx = ctx;
    }

    /**
     * The device rows of {@code layer} with positions {@code [0, pos0 + tokens)} equal to the host's;
     * the caller has entered the context.
     */
    Layer sync(KvCache cache, int layer, int pos0, int tokens) {
        Mirror m = mirror(cache);
        Layer l = layer(m, cache, layer);
        upload(cache, layer, l, m.rows.beforeAttention(layer, pos0, tokens));
        return l;
    }

    /**
     * The layer's device rows, about to receive positions {@code [pos0, pos0 + tokens)} from a kernel
     * (a cache whose rows the device encodes itself): rows before pos0 the device never saw are uploaded
     * first, and the host rows of the batch are never read.
     */
    Layer forStore(KvCache cache, int layer, int pos0, int tokens) {
        Mirror m = mirror(cache);
        Layer l = layer(m, cache, layer);
        upload(cache, layer, l, m.rows.beforeDeviceStore(layer, pos0, tokens));
        return l;
    }

    /** The layer's device rows as they are (for attention after {@link #forStore}). */
    Layer layer(KvCache cache, int layer) {
        return layer(mirror(cache), cache, layer);
    }

    private Mirror mirror(KvCache cache) {
        sweep();
        Mirror m = byCache.get(cache);
        if (m == null) {
            m = new Mirror(cache);
            byCache.put(cache, m);
            all.add(m);
        } else if (m.shifts != cache.shifts()) {
            m.rows = new KvRows(cache.layers(), cache.contextLength());      // every row is uploaded again as needed
            m.shifts = cache.shifts();
        }
        return m;
    }

    private Layer layer(Mirror m, KvCache cache, int layer) {
        Layer l = m.layers[layer];
        if (l == null) {
            long kBytes = (long) cache.contextLength() * rowBytesK(cache);
            CUdeviceptr k = ctx.alloc(kBytes, "KV cache layer " + layer + " keys");
            CUdeviceptr v = cache.isLatent() ? k : ctx.alloc((long) cache.contextLength() * rowBytesV(cache), "KV cache layer " + layer + " values");
            l = new Layer(k, v);
            m.layers[layer] = l;
        }
        return l;
    }

    private void upload(KvCache cache, int layer, Layer l, KvRows.Range r) {
        if (r.count() <= 0) return;
        long kb = rowBytesK(cache);
        ctx.upload(cache.keys().asSlice(cache.keyOffset(layer, r.from()), r.count() * kb), l.k().withByteOffset(r.from() * kb));
        if (!cache.isLatent()) {
            long vb = rowBytesV(cache);
            ctx.upload(cache.values().asSlice(cache.valueOffset(layer, r.from()), r.count() * vb), l.v().withByteOffset(r.from() * vb));
        }
    }

    /** Bytes between consecutive key rows. */
    static long rowBytesK(KvCache c) {
        return c.keyType().rowBytes(c.keyRowElements());
    }

    /** Bytes between consecutive value rows: a latent cache's values are its key rows. */
    static long rowBytesV(KvCache c) {
        return c.isLatent() ? rowBytesK(c) : c.valueType().rowBytes(c.valueRowElements());
    }

    /** Frees the mirrors of caches closed or collected since. */
    void sweep() {
        for (Iterator<Mirror> it = all.iterator(); it.hasNext(); ) {
            Mirror m = it.next();
            if (m.dead()) {
                KvCache closed = m.cache.get();
                if (closed != null) byCache.remove(closed);
                free(m);
                it.remove();
            }
        }
    }

    /** Frees every mirror. */
    void clear() {
        for (Mirror m : all) free(m);
        all.clear();
        byCache.clear();
    }

    private void free(Mirror m) {
        for (Layer l : m.layers) {
            if (l == null) continue;
            ctx.free(l.k());
            if (l.v() != l.k()) ctx.free(l.v());
        }
    }
}
