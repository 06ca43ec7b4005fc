package dev.panllama.server;

import dev.panllama.chat.ChatFormat;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server listens before its model is loaded (llama-server's order): /health and every endpoint say
 * 503 "Loading model" until {@link OpenAiServer#ready} (and its warm-up) is done; then they answer, and
 * each request is logged at INFO with its method, endpoint, status, tokens and time.
 */
class ServeLoadingTest {
    @Test
    void healthIs503UntilTheModelIsReadyThenRequestsAreLogged() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        OpenAiServer.Settings settings = new OpenAiServer.Settings("127.0.0.1", 0, 1, 0, "stories260K", 1 << 20, Duration.ofSeconds(60),
                SamplerParams.DEFAULTS);
        Logger log = Logger.getLogger(OpenAiServer.class.getName());
        List<String> lines = new ArrayList<>();
        Handler capture = new Handler() {
            public void publish(LogRecord r) {
                synchronized (lines) {
                    lines.add(r.getMessage());
                }
            }

            public void flush() {}

            public void close() {}
        };
        Level before = log.getLevel();
        log.setLevel(Level.INFO);
        log.addHandler(capture);
        try (OpenAiServer server = OpenAiServer.listen(settings);
             Model model = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(1))) {
            String base = "http://127.0.0.1:" + server.address().getPort();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.body()).contains("Loading model");
            HttpResponse<String> early = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"x\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(early.statusCode()).isEqualTo(503);

            long warm = server.ready(model, ChatFormat.forModel(model.metadata(), model.tokenizer()), 64, null, 200);
            assertThat(warm).isGreaterThanOrEqualTo(200);
            assertThat(server.slots().cachedTokens()).as("the warm-up leaves the slots empty").isZero();
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                    .isEqualTo(200);
            HttpResponse<String> done = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Once upon a time\", \"max_tokens\": 5}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(done.statusCode()).isEqualTo(200);
            String metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).as("the warm-up is not counted").contains("\npanllama_tokens_predicted_total 5\n");
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < deadline) {
                synchronized (lines) {
                    if (lines.stream().anyMatch(l -> l.startsWith("POST /v1/completions 200 prompt"))) break;
                }
                Thread.sleep(10);
            }
            synchronized (lines) {
                assertThat(lines).anyMatch(l -> l.startsWith("GET /health 503 "));
                assertThat(lines).anyMatch(l -> l.matches("POST /v1/completions 200 prompt \\d+ \\(0 cached\\) \\+ 5 generated \\d+ ms"));
            }
        } finally {
            log.removeHandler(capture);
            log.setLevel(before);
        }
    }
}
