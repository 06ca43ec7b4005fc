package dev.panllama.util;

import dev.panllama.ffm.libc.libc_h;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** The libc calls behind --mlock, madvise hints and --no-mmap, with failures turned into messages. */
public final class NativeMemory {
    private NativeMemory() {}

    /** Access-pattern hints for mapped weights (madvise). */
    public enum Advice {
        NONE(-1), NORMAL(0), RANDOM(1), SEQUENTIAL(2), WILLNEED(3);

        final int madv;

        Advice(int madv) { this.madv = madv; }
    }

    private static final long MAP_FAILED = -1L;

    /** Whether standard error is a terminal (isatty(2)), where progress bars redraw in place. */
    public static boolean stderrIsTerminal() {
        return libc_h.isatty(2) == 1;
    }

    public static long pageSize() {
        return libc_h.sysconf(libc_h._SC_PAGESIZE());
    }

    /** Physical memory in bytes, or -1 when unknown. */
    public static long physicalMemory() {
        long pages = libc_h.sysconf(libc_h._SC_PHYS_PAGES());
        return pages < 0 ? -1 : pages * pageSize();
    }

    /** Applies an access hint to a page-aligned segment; returns an error message or null. */
    public static String advise(MemorySegment segment, Advice advice) {
        if (advice == Advice.NONE || segment.byteSize() == 0) return null;
        int rc = libc_h.madvise(segment, segment.byteSize(), advice.madv);
        return rc == 0 ? null : "madvise(" + advice + ") failed: " + lastError();
    }

    /** Locks a segment in RAM; returns null on success or llama.cpp's advice on failure. */
    public static String lock(MemorySegment segment) {
        if (segment.byteSize() == 0) return null;
        int rc = libc_h.mlock(segment, segment.byteSize());
        if (rc == 0) return null;
        return "failed to mlock " + segment.byteSize() + " bytes: " + lastError()
                + "; try increasing RLIMIT_MEMLOCK ('ulimit -l' as root)";
    }

    /**
     * Reads a whole file into anonymous memory owned by {@code arena} (released when it closes): the
     * --no-mmap path. Anonymous mmap rather than Arena.allocate so the size is not capped by
     * -XX:MaxDirectMemorySize.
     */
    public static MemorySegment readFile(Path path, long size, Arena arena, ProgressListener progress) throws IOException {
        String file = path.toString();
        if (size == 0) return MemorySegment.NULL.reinterpret(0);
        MemorySegment raw = libc_h.mmap(MemorySegment.NULL, size, libc_h.PROT_READ() | libc_h.PROT_WRITE(),
                libc_h.MAP_PRIVATE() | libc_h.MAP_ANONYMOUS(), -1, 0);
        if (raw.address() == MAP_FAILED) {
            throw new IOException(file + ": cannot allocate " + size + " bytes to read the file (--no-mmap): " + lastError());
        }
        MemorySegment buffer = raw.reinterpret(size, arena, s -> libc_h.munmap(s, size));
        // Transparent huge pages for the weights, asked before read() faults the pages in: generation streams
        // every weight once per token, and 2 MiB pages spare it the TLB misses and the prefetcher stops at
        // each 4 KiB page (streaming matvec of bench-1b Q8_0's FFN tensors, 1 thread: 11.4 -> 14.5 GB/s). A
        // hint: where THP is off the call fails and the read goes on with small pages.
        libc_h.madvise(raw, size, libc_h.MADV_HUGEPAGE());
        int fd;
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment cpath = tmp.allocateFrom(file, StandardCharsets.UTF_8);
            fd = libc_h.open.makeInvoker().apply(cpath, libc_h.O_RDONLY() | libc_h.O_CLOEXEC());
        }
        if (fd < 0) throw new IOException(file + ": cannot open: " + lastError());
        try {
            libc_h.posix_fadvise(fd, 0, 0, libc_h.POSIX_FADV_SEQUENTIAL());
            long done = 0;
            long chunk = 64L << 20;
            while (done < size) {
                long n = libc_h.read(fd, buffer.asSlice(done), Math.min(chunk, size - done));
                if (n < 0) {
                    if (errno() == libc_h.EINTR()) continue;
                    throw new IOException(file + ": read failed at byte " + done + ": " + lastError());
                }
                if (n == 0) throw new IOException(file + ": file shrank while reading: ended at byte " + done + " of " + size);
                done += n;
                progress.update("reading " + path.getFileName(), done, size);
            }
        } finally {
            libc_h.close(fd);
        }
        return buffer;
    }

    private static int errno() {
        return libc_h.__errno_location().reinterpret(4).get(ValueLayout.JAVA_INT, 0);
    }

    static String lastError() {
        int e = errno();
        MemorySegment msg = libc_h.strerror(e);
        return msg.getString(0, StandardCharsets.UTF_8) + " (errno " + e + ")";
    }
}
