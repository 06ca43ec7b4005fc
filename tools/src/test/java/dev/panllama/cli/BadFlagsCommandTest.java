package dev.panllama.cli;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 15, flags: every bad value gets one line naming the flag and the value, exit 1 — never a
 * stack trace, a hang or a silent acceptance.
 */
class BadFlagsCommandTest {
    private static final String STORIES = TestFiles.stories260K().toString();
    private static final String TEXT = TestFiles.bundled("text/tinystories_sample.txt").toString();

    /** One line on stderr, "panllama CMD: error: ...", exit 1 and no trace. */
    private static CliRun fails(String... args) {
        CliRun r = CliRun.of(args);
        assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
        assertThat(r.err().strip()).as(r.err()).startsWith("panllama " + args[0] + ": error: ").doesNotContain("\n");
        return r;
    }

    private static String error(String... args) {
        return fails(args).err().strip().replaceFirst("^panllama \\S+: error: ", "");
    }

    @CommandLine.Command(name = "boom")
    static final class Throws implements Callable<Integer> {
        final Error error;

        Throws(Error error) { this.error = error; }

        @Override
        public Integer call() { throw error; }
    }

    private static CliRun runThrowing(Error e) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.configure(new CommandLine(new Throws(e)), new PrintWriter(out, true), new PrintWriter(err, true)).execute();
        return new CliRun(code, out.toString(), err.toString());
    }

    /** picocli hands only Exceptions to the handler: Errors must reach it too, as one line. */
    @Test
    void errorsBecomeOneLineMessages() {
        CliRun native_ = runThrowing(new OutOfMemoryError("Unable to allocate 32000000048 bytes"));
        assertThat(native_.exitCode()).isEqualTo(1);
        assertThat(native_.err().strip()).isEqualTo("panllama boom: error: out of memory (Unable to allocate 32000000048 bytes"
                + " of native memory); try a smaller context (-c)");
        CliRun heap = runThrowing(new OutOfMemoryError("Java heap space"));
        assertThat(heap.err().strip()).startsWith("panllama boom: error: out of memory (Java heap space); try a smaller context (-c)")
                .contains("PANLLAMA_JAVA_OPTS=-Xmx");
        CliRun overflow = runThrowing(new StackOverflowError());
        assertThat(overflow.exitCode()).isEqualTo(1);
        assertThat(overflow.err().strip()).isEqualTo("panllama boom: error: stack overflow (nesting too deep); PANLLAMA_DEBUG=1 shows where");
        CliRun other = runThrowing(new AssertionError("broken invariant"));
        assertThat(other.err().strip()).isEqualTo("panllama boom: error: internal error: java.lang.AssertionError: broken invariant;"
                + " PANLLAMA_DEBUG=1 shows where");
    }
}
