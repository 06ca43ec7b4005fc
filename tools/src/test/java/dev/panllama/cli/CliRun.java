package dev.panllama.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One in-process run of the CLI with its stdout, stderr and exit code. */
record CliRun(int exitCode, String out, String err) {
    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
