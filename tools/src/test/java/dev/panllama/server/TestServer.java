package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.chat.ChatFormat;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.sampling.SamplerParams;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** A model and an {@link OpenAiServer} over it on 127.0.0.1 (a free port), with a plain HTTP client for tests. */
final class TestServer implements AutoCloseable {
    final Model model;
    final ChatFormat format;
    final OpenAiServer server;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    private TestServer(Model model, ChatFormat format, OpenAiServer server) {
        this.model = model;
        this.format = format;
        this.server = server;
    }

    static TestServer start(Path modelFile, int parallel, int contextPerSlot, long maxRequestBytes) throws IOException {
        return start(modelFile, parallel, contextPerSlot, maxRequestBytes, Duration.ofSeconds(600), UnaryOperator.identity());
    }

    /**
     * @param readTimeout how long the server waits for more of a request body (serve's --timeout)
     * @param formats     replaces the model's chat format (and with it the tokenizer the server uses): tests
     *                    wrap it to make rendering or detokenizing fail
     */
    static TestServer start(Path modelFile, int parallel, int contextPerSlot, long maxRequestBytes, Duration readTimeout,
                            UnaryOperator<ChatFormat> formats) throws IOException {
        return start(modelFile, parallel, contextPerSlot, maxRequestBytes, readTimeout, formats, null);
    }

    /** @param apiKey serve's --api-key, or null */
    static TestServer start(Path modelFile, int parallel, int contextPerSlot, long maxRequestBytes, Duration readTimeout,
                            UnaryOperator<ChatFormat> formats, String apiKey) throws IOException {
        return start(modelFile, parallel, contextPerSlot, maxRequestBytes, readTimeout, formats, apiKey, UnaryOperator.identity());
    }

    /** @param settings changes the server's settings (-n, --embeddings, --slot-save-path, ...) */
    static TestServer start(Path modelFile, int parallel, int contextPerSlot, UnaryOperator<OpenAiServer.Settings> settings) throws IOException {
        return start(modelFile, parallel, contextPerSlot, 1 << 20, Duration.ofSeconds(600), UnaryOperator.identity(), null, settings);
    }

    private static TestServer start(Path modelFile, int parallel, int contextPerSlot, long maxRequestBytes, Duration readTimeout,
                                    UnaryOperator<ChatFormat> formats, String apiKey, UnaryOperator<OpenAiServer.Settings> settings) throws IOException {
        Model model = Model.load(modelFile, ModelOptions.DEFAULTS.withThreads(1));
        try {
            ChatFormat format = formats.apply(ChatFormat.forModel(model.metadata(), model.tokenizer()));
            OpenAiServer server = OpenAiServer.start(model, format, settings.apply(new OpenAiServer.Settings("127.0.0.1", 0, parallel, contextPerSlot,
                    "stories260K", maxRequestBytes, readTimeout, SamplerParams.DEFAULTS, apiKey)));
            return new TestServer(model, format, server);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.address().getPort() + path;
    }

    HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return HttpIo.JSON.readTree(r.body());
    }

    /** One value of /metrics, by metric name (no labels). */
    double metric(String name) throws IOException, InterruptedException {
        for (String line : get("/metrics").body().split("\n")) {
            if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1));
        }
        throw new AssertionError("no metric " + name);
    }

    /**
     * Waits (up to 10 s) for /metrics to contain {@code line} and returns the text. A request is counted as its
     * handler ends, a moment after its client has the whole answer: a test asking at once could miss it.
     */
    String awaitMetrics(String line) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        String text = get("/metrics").body();
        while (!text.contains(line) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            text = get("/metrics").body();
        }
        return text;
    }

    @Override
    public void close() {
        server.close();
        model.close();
    }
}
