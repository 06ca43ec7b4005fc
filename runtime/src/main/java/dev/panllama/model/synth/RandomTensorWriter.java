package dev.panllama.model.synth;

import dev.panllama.tensor.codec.BlockCodec;
import dev.panllama.tensor.GgmlType;
import dev.panllama.util.ProgressListener;
import dev.panllama.util.Tasks;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fills tensors with Gaussian random values, encoded straight into their place in the output file,
 * chunks of rows at a time on a pool of threads. Row r of a tensor is drawn from a generator seeded by
 * (seed, tensor name, r) alone, so the bytes do not depend on the thread count, the chunking, the
 * number of layers, or the tensor's position in the file.
 */
final class RandomTensorWriter implements AutoCloseable {
    /** Elements generated per task: large enough to amortise scheduling, small enough to balance. */
    private static final int CHUNK_ELEMENTS = 1 << 18;

    private final long seed;
    private final ExecutorService pool;
    private final ProgressListener progress;
    private final String task;
    private final long totalBytes;
    private long doneBytes;

    RandomTensorWriter(long seed, int threads, ProgressListener progress, String task, long totalBytes) {
        if (threads <= 0) throw new IllegalArgumentException("thread count must be positive, not " + threads);
        this.seed = seed;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "synth-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.progress = progress;
        this.task = task;
        this.totalBytes = totalBytes;
    }

    /**
     * Writes a tensor of {@code dst.byteSize() / rowBytes} rows of {@code ne0} values, each value
     * {@code mean + std * N(0, 1)}, encoded as {@code type}.
     */
    void write(String name, MemorySegment dst, GgmlType type, int ne0, float mean, float std) throws IOException {
        BlockCodec codec = type.codec();
        long rowBytes = type.rowBytes(ne0);
        long rows = dst.byteSize() / rowBytes;
        long key = nameKey(name);
        int chunkRows = Math.max(1, CHUNK_ELEMENTS / ne0);
        List<Future<?>> tasks = new ArrayList<>();
        for (long first = 0; first < rows; first += chunkRows) {
            long start = first;
            long end = Math.min(rows, first + chunkRows);
            tasks.add(pool.submit(() -> {
                float[] row = new float[ne0];
                for (long r = start; r < end; r++) {
                    SplittableRandom rnd = new SplittableRandom(mix(mix(seed ^ key) + r));
                    for (int i = 0; i < ne0; i++) row[i] = mean + std * (float) rnd.nextGaussian();
                    codec.quantize(row, 0, dst, r * rowBytes, ne0);
                }
                reportDone((end - start) * rowBytes);
            }));
        }
        Tasks.awaitAll(tasks, "writing " + name);
    }

    /** Under a lock so that the listener sees a monotonic count and its final call is the last one. */
    private synchronized void reportDone(long bytes) {
        doneBytes += bytes;
        progress.update(task, doneBytes, totalBytes);
    }

    /** FNV-1a over the UTF-8 name: stable across JVMs, unlike String.hashCode's 32 bits. */
    static long nameKey(String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64's finaliser: decorrelates neighbouring rows' seeds. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
