package dev.panllama.util;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waiting for a batch of pool tasks the way the offline writers need: the first failure cancels the rest. */
public final class Tasks {
    private Tasks() {}

    /**
     * Waits for every task. The first failure cancels the others and is rethrown as it was (an unchecked
     * exception, an error, an IOException) or as an IOException naming {@code doing} (e.g. "converting
     * model.safetensors"); an interrupt cancels them all too.
     */
    public static void awaitAll(List<? extends Future<?>> tasks, String doing) throws IOException {
        try {
            for (Future<?> f : tasks) f.get();
        } catch (InterruptedException e) {
            tasks.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while " + doing, e);
        } catch (ExecutionException e) {
            tasks.forEach(f -> f.cancel(true));
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) throw re;
            if (cause instanceof Error err) throw err;
            if (cause instanceof IOException io) throw io;
            throw new IOException(doing + ": " + cause.getMessage(), cause);
        }
    }
}
