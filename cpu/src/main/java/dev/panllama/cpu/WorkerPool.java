package dev.panllama.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed set of threads that run one parallel loop at a time, with the caller as one of them.
 * Generating a token runs a few hundred short loops (one per matrix), so workers spin briefly between
 * loops instead of parking: waking a parked thread costs more than most loops take. After about a
 * millisecond without work they park until the next loop.
 *
 * <p>Chunks are handed out dynamically (an atomic counter), so a slow thread does not hold up the rest.
 * One loop at a time: callers must not overlap (the kernels serialise on this object).
 */
final class WorkerPool implements AutoCloseable {
    private static final long SPIN_NANOS = 1_000_000;

    private final Thread[] workers;
    private final AtomicInteger nextChunk = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private volatile long generation;
    private volatile IntConsumer body;
    private volatile int chunks;
    private volatile Throwable failure;
    private volatile boolean closed;
    /** 1 while worker i may be parked; volatile accesses pair with generation (Dekker) so no wake-up is lost. */
    private final AtomicIntegerArray parked;

    WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1");
        workers = new Thread[threads - 1];
        parked = new AtomicIntegerArray(workers.length);
        for (int i = 0; i < workers.length; i++) {
            int id = i;
            workers[i] = Thread.ofPlatform().daemon().name("panllama-cpu-" + (i + 1)).unstarted(() -> workerLoop(id));
            workers[i].start();
        }
    }

    int threads() { return workers.length + 1; }

    /** Runs {@code body.accept(c)} for every c in [0, chunks), spread over all threads; returns when all are done. */
    synchronized void parallelFor(int chunks, IntConsumer body) {
        if (chunks <= 0) return;
        if (workers.length == 0 || chunks == 1) {
            for (int c = 0; c < chunks; c++) body.accept(c);
            return;
        }
        this.body = body;
        this.chunks = chunks;
        this.failure = null;
        nextChunk.set(0);
        running.set(workers.length);
        generation++;                        // publishes body/chunks to the workers
        for (int i = 0; i < workers.length; i++) {
            if (parked.get(i) != 0) LockSupport.unpark(workers[i]);
        }
        runChunks(body, chunks);
        while (running.get() != 0) Thread.onSpinWait();
        Throwable f = failure;
        if (f != null) {
            if (f instanceof RuntimeException r) throw r;
            if (f instanceof Error e) throw e;
            throw new IllegalStateException(f);
        }
    }

    private void runChunks(IntConsumer b, int n) {
        try {
            for (int c; (c = nextChunk.getAndIncrement()) < n; ) b.accept(c);
        } catch (Throwable t) {
            failure = t;
            nextChunk.set(n);
        }
    }

    private void workerLoop(int id) {
        long seen = 0;
        while (true) {
            long start = System.nanoTime();
            long g;
            while ((g = generation) == seen && !closed) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    parked.set(id, 1);
                    if (generation == seen && !closed) LockSupport.parkNanos(this, 50_000_000);
                    parked.set(id, 0);
                }
            }
            if (closed) return;
            seen = g;
            runChunks(body, chunks);
            running.decrementAndGet();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
