package dev.panllama.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Touches the pages a work item is about to read, with plain scalar loads, before its kernel runs.
 *
 * <p>Why: a model file truncated while mapped makes the next read of a lost page raise SIGBUS, which
 * HotSpot turns into an InternalError (the tools report "changed on disk while mapped") only if it can
 * decode the faulting instruction to step over it. It decodes scalar loads but not every AVX load that
 * C2 emits for the Vector API: such a fault ended the JVM with "ShouldNotReachHere" in
 * Assembler::locate_operand (JDK 25, seen on IQ4_XS at 128-bit). Touched first, a lost page faults
 * here, on a scalar load. What remains is a file truncated in the microseconds between this touch and
 * the kernel's reads; {@link VecMath#FAULT_GUARD} makes HotSpot handle the common case of that too.
 * The touch reads one byte per 4 KiB of rows the kernel then streams, mostly lines it would miss on
 * anyway.
 */
final class MappedPages {
    private MappedPages() {}

    private static final long PAGE = 4096;       // a power of two (the loop below relies on it)

    /** Reads a byte of every page that {@code seg[from, to)} overlaps: one load for a row within a page. */
    static void touch(MemorySegment seg, long from, long to) {
        long base = seg.address();
        int sum = 0;
        // The next page's start by bit operations: a long division per row cost generation ~5% (bench-moe).
        for (long p = from; p < to; p = ((base + p) | (PAGE - 1)) + 1 - base) sum += seg.get(ValueLayout.JAVA_BYTE, p);
        // Never true (bytes summed stay far above it); it keeps the loads, which C2 drops when unused.
        if (sum == Integer.MIN_VALUE) throw new AssertionError(sum);
    }
}
