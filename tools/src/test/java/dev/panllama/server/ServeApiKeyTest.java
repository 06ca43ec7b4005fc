package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/** llama-server's --api-key: every endpoint but /health wants {@code Authorization: Bearer KEY}; others get 401. */
class ServeApiKeyTest {
    private static final String KEY = "sk-test-0123456789";
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestFiles.stories260K(), 1, 64, 4096, Duration.ofSeconds(600), UnaryOperator.identity(), KEY);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url(path))).timeout(Duration.ofSeconds(60)).GET();
        if (authorization != null) b.header("Authorization", authorization);
        return server.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aMissingOrWrongKeyGets401WithAnOpenAiErrorBody() throws Exception {
        for (String auth : new String[]{null, "Bearer sk-test-012345678", "Bearer " + KEY + "x", "Basic " + KEY, "Bearer"}) {
            HttpResponse<String> r = get("/v1/models", auth);
            assertThat(r.statusCode()).as("Authorization: %s", auth).isEqualTo(401);
            assertThat(r.headers().firstValue("WWW-Authenticate")).contains("Bearer");
            JsonNode error = new ObjectMapper().readTree(r.body()).path("error");
            assertThat(error.path("type").asText()).isEqualTo("authentication_error");
            assertThat(error.path("message").asText()).startsWith(auth == null ? "missing API key" : "invalid API key");
        }
        HttpRequest post = HttpRequest.newBuilder(URI.create(server.url("/v1/completions"))).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"Once\",\"max_tokens\":2}")).build();
        assertThat(server.http.send(post, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
    }

    @Test
    void theKeyOpensEveryEndpointAndHealthNeedsNone() throws Exception {
        assertThat(get("/v1/models", "Bearer " + KEY).statusCode()).isEqualTo(200);
        assertThat(get("/v1/models", "bearer  " + KEY + " ").statusCode()).isEqualTo(200);
        assertThat(get("/metrics", "Bearer " + KEY).statusCode()).isEqualTo(200);
        assertThat(get("/health", null).statusCode()).isEqualTo(200);
        HttpRequest post = HttpRequest.newBuilder(URI.create(server.url("/v1/completions"))).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + KEY)
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"Once\",\"max_tokens\":2}")).build();
        HttpResponse<String> r = server.http.send(post, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(new ObjectMapper().readTree(r.body()).path("usage").path("completion_tokens").asInt()).isEqualTo(2);
    }
}
