package dev.panllama.convert;

import dev.panllama.tensor.codec.BlockCodec;
import dev.panllama.tensor.GgmlType;
import dev.panllama.util.ProgressListener;
import dev.panllama.util.Tasks;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Encodes {@link FloatRows} into a tensor type, straight into their destination (an output file's
 * mapping or memory the loader owns), chunks of rows at a time on a pool of threads. Only one row
 * buffer per task is ever on the heap, so converting a model of any size needs little of it. The
 * bytes do not depend on the thread count: every row is encoded on its own.
 */
public final class RowEncoder implements AutoCloseable {
    /** Elements per task: large enough to amortise scheduling, small enough to balance and to report often. */
    private static final int CHUNK_ELEMENTS = 1 << 18;

    private final ExecutorService pool;
    private final ProgressListener progress;
    private final String task;
    private final long totalBytes;
    private long doneBytes;

    /**
     * @param totalBytes bytes all {@link #encode} and {@link #report} calls will produce, for the progress total
     */
    public RowEncoder(int threads, ProgressListener progress, String task, long totalBytes) {
        if (threads <= 0) throw new IllegalArgumentException("thread count must be positive, not " + threads);
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "convert-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.progress = progress;
        this.task = task;
        this.totalBytes = totalBytes;
    }

    /** Encodes every row of {@code src} as {@code type} into {@code dst}, which holds exactly the encoded rows. */
    public void encode(String name, FloatRows src, GgmlType type, MemorySegment dst) throws IOException {
        BlockCodec codec = type.codec();
        int ne0 = src.rowLength();
        long rowBytes = type.rowBytes(ne0);
        long rows = src.rows();
        if (dst.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException(name + ": " + dst.byteSize() + " bytes for " + rows + " rows of " + rowBytes);
        }
        int chunkRows = Math.max(1, CHUNK_ELEMENTS / Math.max(ne0, 1));
        List<Future<?>> tasks = new ArrayList<>();
        for (long first = 0; first < rows; first += chunkRows) {
            long start = first;
            long end = Math.min(rows, first + chunkRows);
            tasks.add(pool.submit(() -> {
                float[] row = new float[ne0];
                for (long r = start; r < end; r++) {
                    src.read(r, row);
                    codec.quantize(row, 0, dst, r * rowBytes, ne0);
                }
                report((end - start) * rowBytes);
            }));
        }
        Tasks.awaitAll(tasks, "converting " + name);
    }

    /** Runs {@code work} on the pool for each of {@code count} parts (e.g. byte copies) and waits for all. */
    public void forEach(String name, long count, PartTask work) throws IOException {
        List<Future<?>> tasks = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            long part = i;
            tasks.add(pool.submit(() -> {
                report(work.run(part));
                return null;
            }));
        }
        Tasks.awaitAll(tasks, "converting " + name);
    }

    /** One part of a {@link #forEach}; returns the bytes it produced, for the progress count. */
    @FunctionalInterface
    public interface PartTask {
        long run(long part) throws Exception;
    }

    /** Adds bytes produced outside {@link #encode} (a verbatim copy) to the progress count. */
    public synchronized void report(long bytes) {
        doneBytes += bytes;
        progress.update(task, doneBytes, totalBytes);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
