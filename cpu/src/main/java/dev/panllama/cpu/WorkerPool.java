package dev.panllama.cpu;

import dev.panllama.util.Numa;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed set of threads that run one parallel loop at a time, with the caller as one of them.
 * Generating a token runs a few hundred short loops (one per matrix), so idle workers spin briefly
 * before parking: waking a parked thread costs more than most loops take.
 *
 * <p>Each loop is a {@link Job} whose chunks are handed out by an atomic counter, and the loop is done
 * when all its chunks are done — not when every worker has checked in. So on a busy machine a worker
 * the OS has not scheduled yet costs nothing: the caller and the others take its share, and when it
 * wakes it finds nothing left of that job. One loop at a time: callers are serialised on this object.
 *
 * <p>llama.cpp's -t and -tb: a loop over one token's work (generation) runs on {@code threads} threads, a
 * loop over a batch of tokens (a prompt) on {@code batchThreads}; the pool holds the larger count and the
 * workers past a loop's count leave it alone.
 */
final class WorkerPool implements AutoCloseable {
    private static final long WORKER_SPIN_NANOS = 200_000;
    private static final int CALLER_SPINS_BEFORE_YIELD = 2_000;

    /** One parallel loop. */
    private static final class Job {
        final IntConsumer body;
        final int chunks;
        /** Workers (besides the caller) that take part. */
        final int helpers;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(IntConsumer body, int chunks, int helpers) {
            this.body = body;
            this.chunks = chunks;
            this.helpers = helpers;
        }

        /** Takes and runs chunks until none are left. */
        void work() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    if (failure == null) body.accept(c);
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    private final Thread[] workers;
    private final int threads, batchThreads;
    /** 1 while worker i may be parked; volatile accesses pair with {@link #current} (Dekker) so no wake-up is lost. */
    private final AtomicIntegerArray parked;
    private volatile Job current;
    /** The caller thread last bound to thread 0's CPUs under --numa. */
    private Thread pinnedCaller;
    private volatile boolean closed;

    WorkerPool(int threads) {
        this(threads, threads);
    }

    WorkerPool(int threads, int batchThreads) {
        if (threads < 1 || batchThreads < 1) throw new IllegalArgumentException("threads must be >= 1");
        this.threads = threads;
        this.batchThreads = batchThreads;
        workers = new Thread[Math.max(threads, batchThreads) - 1];
        parked = new AtomicIntegerArray(workers.length);
        for (int i = 0; i < workers.length; i++) {
            int id = i;
            workers[i] = Thread.ofPlatform().daemon().name("panllama-cpu-" + (i + 1)).unstarted(() -> {
                Numa.pinCurrentThread(id + 1);       // --numa: thread i's CPUs (the caller is thread 0)
                workerLoop(id);
            });
            workers[i].start();
        }
    }

    /** The threads a loop over {@code tokens} tokens' work runs on: -t for one token, -tb for a batch. */
    int threads(int tokens) { return tokens > 1 ? batchThreads : threads; }

    String describe() {
        return threads + " thread" + (threads > 1 ? "s" : "") + (batchThreads != threads ? " (" + batchThreads + " for batches)" : "");
    }

    /**
     * Below this many multiply-adds (or comparable steps) a loop runs on the caller alone: handing it to a
     * worker costs several microseconds, more than such a loop takes (stories260K, whose matrices are
     * 64 wide, generated faster on one thread than on two).
     */
    static final long MIN_PARALLEL_WORK = 1 << 16;

    /** As {@link #parallelFor(int, int, IntConsumer)}, on the caller alone when {@code work} is below {@link #MIN_PARALLEL_WORK}. */
    void parallelFor(int tokens, int chunks, long work, IntConsumer body) {
        if (work < MIN_PARALLEL_WORK) {
            for (int c = 0; c < chunks; c++) body.accept(c);
        } else {
            parallelFor(tokens, chunks, body);
        }
    }

    /**
     * Runs {@code body.accept(c)} for every c in [0, chunks), spread over {@link #threads(int) threads(tokens)}
     * threads; returns when all are done.
     */
    synchronized void parallelFor(int tokens, int chunks, IntConsumer body) {
        if (chunks <= 0) return;
        int helpers = threads(tokens) - 1;
        if (Thread.currentThread() != pinnedCaller && Numa.strategy() != Numa.Strategy.DISABLED) {
            Numa.pinCurrentThread(0);
            pinnedCaller = Thread.currentThread();
        }
        if (helpers == 0 || chunks == 1) {
            for (int c = 0; c < chunks; c++) body.accept(c);
            return;
        }
        Job job = new Job(body, chunks, helpers);
        current = job;                       // publishes the job to the workers
        for (int i = 0; i < helpers; i++) {
            if (parked.get(i) != 0) LockSupport.unpark(workers[i]);
        }
        job.work();
        for (int spins = 0; job.done.get() < chunks; spins++) {
            if (spins < CALLER_SPINS_BEFORE_YIELD) Thread.onSpinWait();
            else Thread.yield();             // a worker holding a chunk may need this core
        }
        Throwable f = job.failure;
        if (f != null) {
            if (f instanceof RuntimeException r) throw r;
            if (f instanceof Error e) throw e;
            throw new IllegalStateException(f);
        }
    }

    private void workerLoop(int id) {
        Job seen = null;
        while (true) {
            long start = System.nanoTime();
            Job job;
            while ((job = current) == seen && !closed) {
                if (System.nanoTime() - start < WORKER_SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    parked.set(id, 1);
                    if (current == seen && !closed) LockSupport.parkNanos(this, 50_000_000);
                    parked.set(id, 0);
                }
            }
            if (closed) return;
            seen = job;
            if (id >= job.helpers) continue;     // a generation loop with -t below -tb: not this worker's
            try {
                job.work();
            } catch (Throwable t) {
                // An asynchronous error (the JVM's InternalError for a faulting mapped read is delivered at
                // the next safepoint) can land outside a chunk's try: keep it for the caller, keep the worker.
                if (job.failure == null) job.failure = t;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
