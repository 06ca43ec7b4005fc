package dev.panllama.cli;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ctrl-C as llama-cli's interactive modes take it: while a reply is being generated it stops that
 * reply and gives the turn back to the user; otherwise it ends the program (after {@code atExit}, e.g.
 * the closing timing line). There is no public Java API for SIGINT: {@code sun.misc.Signal}
 * (jdk.unsupported) is the supported way in. A JVM started with SIGINT ignored (a background job of
 * a non-interactive shell) cannot take it: then Ctrl-C does nothing, as for any such process.
 */
final class CtrlC {
    private static final AtomicBoolean GENERATING = new AtomicBoolean(), PRESSED = new AtomicBoolean();
    private static volatile Runnable atExit = () -> {};
    private static boolean installed;

    private CtrlC() {}

    /** Takes SIGINT from now on; {@code exit} runs before the program ends on a Ctrl-C between replies. */
    @SuppressWarnings("removal")
    static synchronized void install(Runnable exit) {
        atExit = exit;
        if (installed) return;
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> pressed());
            installed = true;
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            // no SIGINT here (not POSIX, or the VM keeps it): Ctrl-C keeps the JVM's default, ending the program
        }
    }

    /** What the signal does (also callable by tests, standing in for the terminal). */
    static void pressed() {
        if (GENERATING.get()) {
            PRESSED.set(true);
        } else {
            atExit.run();
            System.exit(130);        // 128 + SIGINT, as a shell reports a program ended by Ctrl-C
        }
    }

    /** A reply starts: a Ctrl-C from now on stops it. */
    static void replyStarted() {
        PRESSED.set(false);
        GENERATING.set(true);
    }

    /** The reply ended: a Ctrl-C from now on ends the program. Returns whether Ctrl-C stopped it. */
    static boolean replyEnded() {
        GENERATING.set(false);
        return PRESSED.getAndSet(false);
    }

    /** Whether Ctrl-C asked the reply being generated to stop. */
    static boolean stopRequested() {
        return PRESSED.get();
    }
}
