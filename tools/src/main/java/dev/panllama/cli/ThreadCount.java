package dev.panllama.cli;

import java.io.PrintWriter;

/**
 * The bounds of every thread-count flag. More threads than cores only take turns on them (each
 * parallel loop then waits for threads the OS has not scheduled), so that gets a warning; past
 * llama.cpp's own limit it is a typo, refused before thousands of threads are started.
 */
final class ThreadCount {
    private ThreadCount() {}

    /** llama.cpp's GGML_MAX_N_THREADS: its CPU backend never runs more. */
    static final int MAX = 512;

    static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * Checks an explicit thread count {@code n} given as {@code flag}: at most {@link #MAX}, and a
     * warning on {@code err} when it is more than the cores. Returns {@code n}.
     */
    static int check(int n, String flag, PrintWriter err) {
        int cores = cores();
        if (n > MAX) {
            throw new IllegalArgumentException(flag + " " + n + ": at most " + MAX + " threads (this machine has "
                    + cores + " core" + (cores == 1 ? "" : "s") + ")");
        }
        if (n > cores) {
            err.println("warning: " + flag + " " + n + " is more threads than the " + cores + " core" + (cores == 1 ? "" : "s")
                    + " of this machine; they take turns, which is slower than " + flag + " " + cores);
            err.flush();
        }
        return n;
    }
}
