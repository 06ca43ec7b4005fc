package dev.panllama.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code panllama chat} and {@code panllama serve} run in process on the bundled model. */
class ChatServeCommandTest {

    /** Two turns and /exit from stdin: the replies stream after "> ", the second turn reuses the first's cache. */
    @Test
    void chatTwoTurns() {
        CliRun run = CliRun.withStdin("Once upon a time\nTell me more.\n/exit\nnot read\n",
                () -> CliRun.of("chat", "--temp", "0", "-n", "8", "-t", "1", "-c", "256", "-sys", "You tell stories."));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).startsWith("> ").contains("\n> ").doesNotContain("not read");
        assertThat(run.out().split("> ")).hasSize(4);        // three prompts: two turns, then /exit
        assertThat(run.err()).contains("chat template chatml (built in)");
        Matcher m = Pattern.compile("2 turns \\| prompt (\\d+) tokens evaluated, (\\d+) from the cache \\| generation 16 tokens").matcher(run.err());
        assertThat(m.find()).as(run.err()).isTrue();
        assertThat(Integer.parseInt(m.group(2))).isGreaterThan(20);   // the whole first turn, system message included
    }

    @Test
    void chatRejectsAnEmptyTemplate() {
        CliRun run = CliRun.withStdin("", () -> CliRun.of("chat", "--chat-template", " "));
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("the chat template is empty (built-in formats: chatml,");
    }

    /** The serve command listens, loads, answers on the port it prints, and stops when its thread is interrupted. */
    @Test
    void serveStartsAnswersAndStops() throws Exception {
        StringWriter err = new StringWriter();
        AtomicInteger exit = new AtomicInteger(-1);
        Thread t = new Thread(() -> exit.set(Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true),
                "serve", "--port", "0", "-c", "256", "--parallel", "2", "-t", "1", "--alias", "tiny")));
        t.start();
        Matcher m = Pattern.compile("ready on http://127\\.0\\.0\\.1:(\\d+) \\| model tiny \\| 2 slots of 128 tokens").matcher("");
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!(m = m.reset(err.toString())).find() && System.nanoTime() < deadline && t.isAlive()) Thread.sleep(50);
        assertThat(m.find(0)).as(err.toString()).isTrue();
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + m.group(1) + "/v1/models")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(models.body()).contains("\"id\":\"tiny\"");
        t.interrupt();
        t.join(60_000);
        assertThat(t.isAlive()).isFalse();
        assertThat(exit.get()).isZero();
        assertThat(err.toString()).contains("panllama serve: stopping").contains("panllama serve: warming up (--no-warmup to skip) ... ")
                .contains("panllama serve: listening on http://127.0.0.1:" + m.group(1) + " (loading the model: /health says 503 until it is ready)");
    }

    @Test
    void serveRefusesZeroSlots() {
        CliRun run = CliRun.of("serve", "--parallel", "0");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("--parallel must be at least 1, not 0");
    }
}
