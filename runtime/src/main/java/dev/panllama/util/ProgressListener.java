package dev.panllama.util;

/**
 * Receives progress of long work (load, quantize, convert, perplexity). The runtime reports; the
 * tools decide how to show it (a bar on a terminal, nothing otherwise).
 */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (task, done, total) -> {};

    /** {@code done} of {@code total} units of {@code task} are finished; called with done == total at the end. */
    void update(String task, long done, long total);
}
