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
        return start(modelFile, parallel, contextPerSlot, maxRequestBytes, UnaryOperator.identity());
    }

    /**
     * @param formats replaces the model's chat format (and with it the tokenizer the server uses): tests wrap
     *                it to make rendering or detokenizing fail
     */
    static TestServer start(Path modelFile, int parallel, int contextPerSlot, long maxRequestBytes,
                            UnaryOperator<ChatFormat> formats) throws IOException {
        Model model = Model.load(modelFile, ModelOptions.DEFAULTS.withThreads(1));
        try {
            ChatFormat format = formats.apply(ChatFormat.forModel(model.metadata(), model.tokenizer()));
            OpenAiServer server = OpenAiServer.start(model, format, new OpenAiServer.Settings("127.0.0.1", 0, parallel, contextPerSlot,
                    "stories260K", maxRequestBytes, SamplerParams.DEFAULTS));
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

    @Override
    public void close() {
        server.close();
        model.close();
    }
}
