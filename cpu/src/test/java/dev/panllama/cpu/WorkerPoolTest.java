package dev.panllama.cpu;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * llama.cpp's -t and -tb on the pool: a loop over one token's work runs on -t threads, a loop over a
 * batch on -tb; every chunk runs exactly once either way.
 */
class WorkerPoolTest {
    private static final int CHUNKS = 48;

    /** The threads that ran a loop of CHUNKS chunks of about 1 ms each (long enough that a waiting worker joins). */
    private static Set<String> threadsOf(WorkerPool pool, int tokens) {
        Set<String> names = ConcurrentHashMap.newKeySet();
        AtomicInteger ran = new AtomicInteger();
        pool.parallelFor(tokens, CHUNKS, c -> {
            names.add(Thread.currentThread().getName());
            ran.incrementAndGet();
            long end = System.nanoTime() + 1_000_000;
            while (System.nanoTime() < end) Thread.onSpinWait();
        });
        assertThat(ran.get()).isEqualTo(CHUNKS);
        return names;
    }

    @Test
    void generationOnOneThreadBatchesOnTwo() {
        try (WorkerPool pool = new WorkerPool(1, 2)) {
            String caller = Thread.currentThread().getName();
            assertThat(pool.threads(1)).isEqualTo(1);
            assertThat(pool.threads(7)).isEqualTo(2);
            assertThat(threadsOf(pool, 1)).containsExactly(caller);
            assertThat(threadsOf(pool, 7)).contains(caller, "panllama-cpu-1");
            assertThat(threadsOf(pool, 1)).containsExactly(caller);   // the worker leaves generation loops alone
            assertThat(pool.describe()).isEqualTo("1 thread (2 for batches)");
        }
    }

    @Test
    void batchesOnOneThreadGenerationOnTwo() {
        try (WorkerPool pool = new WorkerPool(2, 1)) {
            String caller = Thread.currentThread().getName();
            assertThat(threadsOf(pool, 16)).containsExactly(caller);
            assertThat(threadsOf(pool, 1)).contains(caller, "panllama-cpu-1");
            assertThat(pool.describe()).isEqualTo("2 threads (1 for batches)");
        }
    }
}
