package dev.panllama.cli;

import dev.panllama.util.NativeMemory;
import dev.panllama.util.ProgressListener;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * One self-updating line of progress on stderr, e.g.
 * {@code writing model.gguf [=========>         ]  45% 0.28/0.61 GiB 3.1 s}, redrawn at most ten
 * times a second and ended with a newline when the task completes. A new task name starts a new line.
 * Use {@link #onTerminal} so that output redirected to a file or pipe gets no bar at all.
 */
public final class ProgressBar implements ProgressListener {
    /** How the done and total counts are shown. */
    public enum Units {
        BYTES, COUNT;

        String format(long done, long total) {
            if (this == COUNT) return done + "/" + total;
            double scale = total >= 1L << 30 ? 1L << 30 : 1L << 20;
            String unit = total >= 1L << 30 ? "GiB" : "MiB";
            return String.format(Locale.ROOT, scale == 1L << 30 ? "%.2f/%.2f %s" : "%.1f/%.1f %s", done / scale, total / scale, unit);
        }
    }

    private static final long MIN_REDRAW_NANOS = 100_000_000L;
    private static final int BAR_WIDTH = 30;

    private final PrintWriter out;
    private final Units units;
    private final LongSupplier nanoClock;
    private String task;
    private long taskStart;
    private long lastDraw;
    private int lastLength;
    private boolean lineOpen;
    private boolean taskFinished;

    /** A bar drawn on {@code err} whatever it is connected to; see {@link #onTerminal}. */
    ProgressBar(PrintWriter err, Units units, LongSupplier nanoClock) {
        this.out = err;
        this.units = units;
        this.nanoClock = nanoClock;
    }

    /** A bar on {@code err} when the process's stderr is a terminal, otherwise a listener that shows nothing. */
    public static ProgressListener onTerminal(PrintWriter err, Units units) {
        return stderrIsTerminal() ? new ProgressBar(err, units, System::nanoTime) : ProgressListener.NONE;
    }

    @Override
    public synchronized void update(String task, long done, long total) {
        long now = nanoClock.getAsLong();
        boolean complete = done >= total;
        if (!task.equals(this.task) || (taskFinished && !complete)) {
            if (lineOpen) endLine();
            this.task = task;
            taskStart = now;
            taskFinished = false;
        } else if (taskFinished || (!complete && lineOpen && now - lastDraw < MIN_REDRAW_NANOS)) {
            return;
        }
        draw(done, total, now);
        if (complete) {
            endLine();
            taskFinished = true;
        }
    }

    private void draw(long done, long total, long now) {
        double fraction = total <= 0 ? 1.0 : Math.clamp((double) done / total, 0.0, 1.0);
        int filled = (int) (fraction * BAR_WIDTH);
        StringBuilder bar = new StringBuilder(BAR_WIDTH);
        for (int i = 0; i < BAR_WIDTH; i++) bar.append(i < filled ? '=' : i == filled ? '>' : ' ');
        String line = String.format(Locale.ROOT, "%s [%s] %3d%% %s %.1f s", task, bar, (int) (fraction * 100),
                units.format(done, total), (now - taskStart) / 1e9);
        // Spaces erase the tail of a longer previous line; \r returns to its start.
        out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        out.flush();
        lastLength = line.length();
        lastDraw = now;
        lineOpen = true;
    }

    private void endLine() {
        out.println();
        out.flush();
        lineOpen = false;
        lastLength = 0;
    }

    /**
     * isatty(2) on stderr. System.console() is no substitute: since JDK 22 it exists even when output is
     * redirected, and its isTerminal() looks at stdin and stdout, not stderr.
     */
    static boolean stderrIsTerminal() {
        if ("dumb".equals(System.getenv("TERM"))) return false;
        return NativeMemory.stderrIsTerminal();
    }
}
