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
    private static ConsoleHandler handler;
    /** Held: JUL keeps loggers weakly, and a collected one would forget its level. */
    private static final Logger JDK_RUNTIME = Logger.getLogger("java.lang.Runtime");

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
                        : r.getLevel().intValue() >= Level.WARNING.intValue() ? "warning"
                        : r.getLevel().intValue() >= Level.INFO.intValue() ? "info" : "debug";
                return level + ": " + formatMessage(r) + System.lineSeparator();
            }
        });
        root.addHandler(h);
        handler = h;
        installed = true;
    }

    /** llama.cpp's -lv: 0 output only, 1 errors, 2 warnings, 3 information, 4 and more debug. */
    static synchronized void setVerbosity(int n) {
        if (n < 0) throw new IllegalArgumentException("-lv " + n + ": must be 0 (output only) to 4 (debug)");
        install();
        Level level = switch (n) {
            case 0 -> Level.OFF;
            case 1 -> Level.SEVERE;
            case 2 -> Level.WARNING;
            case 3 -> Level.INFO;
            default -> Level.ALL;
        };
        handler.setLevel(level);
        Logger.getLogger("").setLevel(level);
        // the JDK's own records (Runtime.exit's caller, at debug) are not panllama's to print
        JDK_RUNTIME.setLevel(Level.WARNING);
    }
}
