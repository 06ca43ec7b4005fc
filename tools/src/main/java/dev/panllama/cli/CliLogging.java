package dev.panllama.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Runtime warnings (System.Logger) appear on stderr as one line each: {@code warning: ...}; information
 * only with PANLLAMA_LOG=info.
 */
final class CliLogging {
    private static volatile boolean installed;

    private CliLogging() {}

    static synchronized void install() {
        if (installed) return;
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) root.removeHandler(h);
        ConsoleHandler h = new ConsoleHandler();
        Level level = "info".equalsIgnoreCase(System.getenv("PANLLAMA_LOG")) ? Level.INFO : Level.WARNING;
        h.setLevel(level);
        root.setLevel(level);
        h.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                String level = r.getLevel().intValue() >= Level.SEVERE.intValue() ? "error"
                        : r.getLevel().intValue() >= Level.WARNING.intValue() ? "warning" : "info";
                return level + ": " + formatMessage(r) + System.lineSeparator();
            }
        });
        root.addHandler(h);
        installed = true;
    }
}
