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
        CommandLine cli = new CommandLine(new PanllamaCommand());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler(new CliErrors());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli.execute(args);
    }
}
