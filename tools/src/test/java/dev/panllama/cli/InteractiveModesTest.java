package dev.panllama.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * llama-cli's interactive habits on the bundled model: {@code run -i/-if} (one running text, lines
 * added as typed, --in-prefix/--in-suffix), {@code run -cnv} (the chat loop, -p as the first message,
 * -st), and Ctrl-C, sent as a real SIGINT to a child JVM: during a reply it stops the reply, between
 * replies it ends the program.
 */
class InteractiveModesTest {

    /** Empty lines let the model go on: three turns of -n 8 are the text of one run of -n 24. */
    @Test
    void interactiveEmptyLinesContinueTheText() {
        CliRun plain = CliRun.of("run", "-p", "Once upon a time", "-n", "24", "--temp", "0", "-t", "1");
        CliRun turns = CliRun.withStdin("\n\n", () -> CliRun.of("run", "-i", "-p", "Once upon a time", "-n", "8", "--temp", "0", "-t", "1"));
        assertThat(turns.exitCode()).as(turns.err()).isZero();
        assertThat(turns.out().strip()).isEqualTo(plain.out().strip());
        assertThat(turns.err()).contains("generation 24 tokens");
    }

    /** A typed line goes into the text: the reverse prompt is shown, and what follows the line differs from going on without it. */
    @Test
    void interactiveLinesAreAddedAtReversePrompts() {
        String[] args = {"run", "-i", "-p", "Once upon a time", "-n", "30", "--temp", "0", "-t", "1", "-r", "."};
        CliRun typed = CliRun.withStdin("Tom was sad\n", () -> CliRun.of(args));
        CliRun empty = CliRun.withStdin("\n", () -> CliRun.of(args));
        assertThat(typed.exitCode()).as(typed.err()).isZero();
        String first = "Once upon a time, there was a little girl named Lily.";
        assertThat(typed.out()).startsWith(first);
        assertThat(empty.out()).startsWith(first);
        assertThat(typed.out().substring(first.length())).isNotEqualTo(empty.out().substring(first.length()));
    }

    @Test
    void interactiveFirstWaitsAndWrapsTheLine() {
        CliRun r = CliRun.withStdin("and then\n", () -> CliRun.of("run", "-if", "-p", "Once upon a time", "-n", "6", "--temp", "0",
                "--in-prefix", "[", "--in-suffix", "]"));
        assertThat(r.exitCode()).as(r.err()).isZero();
        // the prompt, the user's turn (prefix, the line as typed on a terminal, suffix), 6 tokens, then the next turn's prefix
        assertThat(r.out()).startsWith("Once upon a time[]").endsWith("[\n");
        assertThat(r.err()).contains("generation 6 tokens");
        assertThat(CliRun.of("run", "--in-suffix", "x", "-p", "a").err()).contains("are for interactive mode (-i or -if)");
        assertThat(CliRun.of("run", "-cnv", "-i").err()).contains("-cnv and -i/-if: conversation mode is already interactive");
    }

    @Test
    void conversationModeIsTheChatLoop() {
        CliRun r = CliRun.withStdin("", () -> CliRun.of("run", "-cnv", "-st", "-p", "Hi", "-n", "8", "--temp", "0", "-sys", "You tell stories."));
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("> Hi\n");
        assertThat(r.err()).contains("chat template chatml (built in)").contains("panllama chat: 1 turn |");
        CliRun chat = CliRun.withStdin("", () -> CliRun.of("chat", "-st", "-p", "Hi", "-n", "8", "--temp", "0", "-sys", "You tell stories."));
        assertThat(chat.out()).isEqualTo(r.out());
        assertThat(CliRun.of("run", "-sys", "x", "-p", "a").err()).contains("-sys is for conversation mode (-cnv)");
    }

    /**
     * Ctrl-C in a child JVM: the reply being written stops (" [stopped]"), the next prompt comes, /exit
     * quits with status 0; at the prompt Ctrl-C quits with 130 after the closing line.
     */
    @Test
    void ctrlCStopsTheReplyThenQuits() throws Exception {
        Process chat = startChat();
        try {
            OutputStream in = chat.getOutputStream();
            Output out = new Output(chat.getInputStream());
            out.await("> ", 60);
            in.write("Tell me a story\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            out.awaitGrowth(200, 60);                   // the reply is being written
            signalInterrupt(chat);
            out.await(" [stopped]\n> ", 30);
            in.write("/exit\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            assertThat(chat.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(chat.exitValue()).isZero();
        } finally {
            chat.destroyForcibly();
        }
        Process idle = startChat();
        try {
            Output out = new Output(idle.getInputStream());
            out.await("> ", 60);
            signalInterrupt(idle);
            assertThat(idle.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(idle.exitValue()).isEqualTo(130);
        } finally {
            idle.destroyForcibly();
        }
    }

    /** The chat command in a JVM of its own, with SIGINT at its default (a test JVM's children may inherit it ignored). */
    private static Process startChat() throws IOException {
        Path env = Path.of("/usr/bin/env");
        assumeTrue(Files.isExecutable(env) && Files.isExecutable(Path.of("/bin/sh")) && !System.getProperty("os.name").startsWith("Windows"),
                "needs /usr/bin/env, /bin/sh and POSIX signals");
        List<String> cmd = new ArrayList<>(List.of(env.toString(), "--default-signal=INT",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                "-Dpanllama.home=" + System.getProperty("panllama.home"),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "chat", "-t", "1", "-c", "2048", "-n", "-2", "--ignore-eos", "--no-context-shift", "--temp", "1"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        // an env without --default-signal (coreutils before 8.31) fails at once: skip rather than fail
        try {
            if (p.waitFor(300, TimeUnit.MILLISECONDS) && p.exitValue() == 125) {
                assumeTrue(false, "env --default-signal is not supported here");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return p;
    }

    private static void signalInterrupt(Process p) throws Exception {
        // the child is env's exec of java: the same process
        Process kill = new ProcessBuilder("/bin/sh", "-c", "kill -INT " + p.pid()).start();      // the shell's kill: no /bin/kill needed
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    /** A child's output, read as it comes. */
    private static final class Output {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Output(InputStream s) {
            Thread.ofPlatform().daemon().start(() -> {
                byte[] buf = new byte[4096];
                try {
                    for (int n; (n = s.read(buf)) > 0; ) {
                        synchronized (bytes) {
                            bytes.write(buf, 0, n);
                        }
                    }
                } catch (IOException ignored) {
                    // the child ended
                }
            });
        }

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }

        void await(String s, int seconds) throws InterruptedException {
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            while (!text().contains(s)) {
                assertThat(System.nanoTime()).as("waiting for '%s' in: %s", s, text()).isLessThan(end);
                Thread.sleep(20);
            }
        }

        void awaitGrowth(int chars, int seconds) throws InterruptedException {
            int start = text().length();
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            while (text().length() < start + chars) {
                assertThat(System.nanoTime()).as("waiting for %d more characters in: %s", chars, text()).isLessThan(end);
                Thread.sleep(20);
            }
        }
    }
}
