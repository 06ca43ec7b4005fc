package dev.panllama.cli;

import dev.panllama.model.Model;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Refuses a context size that memory cannot hold before anything is allocated. The KV cache is
 * off-heap (zeroed as it is allocated, so every page is touched at once): it must fit in the RAM the
 * machine can still give, not in the Java heap. Without this check -c 100000000 ends in an
 * OutOfMemoryError, or worse, in the kernel's OOM killer after minutes of zeroing.
 */
final class MemoryBudget {
    private MemoryBudget() {}

    /**
     * Checks that the KV cache of a session of {@code ctx} positions fits in the memory available.
     *
     * @param given how the user chose the context, for the message: "-c 100000000", or the default's words
     */
    static void checkKvCache(Model m, int ctx, String given) {
        long need = m.kvCacheBytes(ctx);
        long available = availableMemory();
        if (available > 0 && need > available) {
            throw new IllegalArgumentException(given + ": the KV cache needs " + GgufCommand.humanBytes(need) + " but only " + GgufCommand.humanBytes(available)
                    + " of memory is available (use a smaller -c)");
        }
    }

    /** Checks that {@code bytes} of Java arrays fit in the heap's limit (-Xmx), less what is in use now. */
    static void checkHeap(long bytes, String given, String what) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes > free) {
            throw new IllegalArgumentException(given + ": " + what + " need " + GgufCommand.humanBytes(bytes) + " but only " + GgufCommand.humanBytes(free)
                    + " of Java heap is free (use a smaller -c, or raise the heap with PANLLAMA_JAVA_OPTS=-Xmx...)");
        }
    }

    /**
     * RAM that new allocations can get, in bytes, or -1 when unknown: Linux's MemAvailable (free memory
     * plus the page cache it can drop), at most the total the JVM sees (a container's limit, if any).
     */
    static long availableMemory() {
        long total = -1;
        long free = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            total = os.getTotalMemorySize();
            free = os.getFreeMemorySize();
        }
        long available = memAvailable();
        if (available < 0) available = free;     // not Linux: the JVM's free figure (page cache not counted)
        if (available <= 0) return total;
        return total > 0 ? Math.min(total, available) : available;
    }

    private static long memAvailable() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    String[] f = line.substring("MemAvailable:".length()).trim().split("\\s+");
                    return Long.parseLong(f[0]) * 1024;     // the kernel writes kB
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc (not Linux) or an unexpected format: fall back to the JVM's figures
        }
        return -1;
    }
}
