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

    /** {@code body} (a run) with {@code input} as standard input; one at a time, since System.in is the JVM's. */
    static CliRun withStdin(String input, java.util.function.Supplier<CliRun> body) {
        synchronized (CliRun.class) {
            java.io.InputStream saved = System.in;
            System.setIn(new java.io.ByteArrayInputStream(input.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            try {
                return body.get();
            } finally {
                System.setIn(saved);
            }
        }
    }
}
