package dev.panllama.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * A panllama subcommand: it writes to the streams picocli was given (Main sets them; tests capture them)
 * and returns the exit code.
 */
abstract class ToolCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public final Integer call() throws Exception {
        return run(spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /** The command's work: output on {@code out}, progress and diagnostics on {@code err}. */
    abstract int run(PrintWriter out, PrintWriter err) throws Exception;
}
