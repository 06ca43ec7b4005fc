package dev.panllama.cli;

import picocli.CommandLine;

import java.io.PrintWriter;

/** Entry point of the {@code panllama} command line. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs one command line and returns its exit code (0 ok, 1 failure, 2 usage error). */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** As {@link #run(String...)} with the command's output and errors going to the given writers. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CliLogging.install();
        return configure(new CommandLine(new PanllamaCommand()), out, err).execute(args);
    }

    /** The writers, error handling and parsing rules every panllama command line runs with. */
    static CommandLine configure(CommandLine cli, PrintWriter out, PrintWriter err) {
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionStrategy(Main::executeCatchingErrors);
        cli.setExecutionExceptionHandler(new CliErrors());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        // llama.cpp's short flags have several letters (-fa, -cnv, -ngl): as POSIX clusters of one-letter
        // options they would parse by accident (-fa as -f a). Unclustered, an undeclared one is named.
        cli.setPosixClusteredShortOptionsAllowed(false);
        cli.setParameterExceptionHandler(new LlamaCppFlags(cli.getParameterExceptionHandler()));
        return cli;
    }

    /**
     * Runs the last subcommand as picocli's default strategy does, but passes an Error
     * (OutOfMemoryError, StackOverflowError, ...) on to {@link CliErrors} too: picocli hands only
     * Exceptions to the execution exception handler, so an Error would otherwise escape
     * {@code execute} and end the JVM with a bare stack trace.
     */
    private static int executeCatchingErrors(CommandLine.ParseResult parsed) {
        try {
            return new CommandLine.RunLast().execute(parsed);
        } catch (Error e) {
            throw new CommandLine.ExecutionException(parsed.asCommandLineList().getLast(), e.toString(), e);
        }
    }
}
