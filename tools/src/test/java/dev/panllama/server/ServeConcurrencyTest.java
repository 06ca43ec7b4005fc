package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.generate.CachedSession;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 32 streaming requests at once on stories260K, 8 slots (so most wait for one): every stream completes,
 * with exactly the tokens asked for, and the text the Java API gives for the same prompt alone.
 */
class ServeConcurrencyTest {
    private static final int REQUESTS = 32;
    private static final int SLOTS = 8;
    private static final int MAX_TOKENS = 16;
    private static final String[] WHO = {"a little girl", "a big dog", "a red bird", "a tiny cat", "a kind boy", "an old man",
            "a happy frog", "a brave fish"};
    private static final String[] WHAT = {"liked to play", "was very sad", "saw a ball", "wanted a cake"};

    /** What one stream delivered: its text, finish reason and usage. */
    record Streamed(String text, int chunks, String finishReason, JsonNode usage, boolean done) {}

    @Test
    void thirtyTwoConcurrentStreamsAllComplete() throws Exception {
        try (TestServer server = TestServer.start(TestFiles.stories260K(), SLOTS, 128, 1 << 20)) {
            List<String> prompts = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) prompts.add("Once upon a time, there was " + WHO[i % WHO.length] + " who " + WHAT[i / WHO.length]);
            List<String> expected = new ArrayList<>();
            try (CachedSession s = new CachedSession(server.model.newSession(128))) {
                for (String p : prompts) {
                    expected.add(Completion.run(s, server.model.tokenizer(), server.model.tokenizer().encode(p, true, true),
                            CompletionSettings.of(MAX_TOKENS, SamplerParams.GREEDY), t -> true).text());
                }
            }

            long t0 = System.nanoTime();
            List<CompletableFuture<Streamed>> streams = new ArrayList<>();
            for (String p : prompts) streams.add(stream(server, p));
            CompletableFuture.allOf(streams.toArray(CompletableFuture[]::new)).get(300, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - t0) / 1e9;

            for (int i = 0; i < REQUESTS; i++) {
                Streamed s = streams.get(i).get();
                assertThat(s.done()).as("request %d ended with [DONE]", i).isTrue();
                assertThat(s.finishReason()).isEqualTo("length");
                assertThat(s.usage().get("completion_tokens").asInt()).as("request %d tokens", i).isEqualTo(MAX_TOKENS);
                assertThat(s.usage().get("prompt_tokens").asInt()).isEqualTo(server.model.tokenizer().encode(prompts.get(i), true, true).length);
                assertThat(s.text()).as("request %d text", i).isEqualTo(expected.get(i));
            }
            assertThat(server.metric("panllama_tokens_predicted_total")).isEqualTo(REQUESTS * MAX_TOKENS);
            assertThat(server.metric("panllama_requests_processing")).isZero();
            System.out.printf(Locale.ROOT, "ServeConcurrencyTest: %d streams x %d tokens over %d slots in %.2f s: %.1f tokens/s in all%n",
                    REQUESTS, MAX_TOKENS, SLOTS, seconds, REQUESTS * MAX_TOKENS / seconds);
        }
    }

    private static CompletableFuture<Streamed> stream(TestServer server, String prompt) {
        String body = "{\"prompt\": " + HttpIo.JSON.valueToTree(prompt) + ", \"max_tokens\": " + MAX_TOKENS
                + ", \"temperature\": 0, \"stream\": true, \"stream_options\": {\"include_usage\": true}}";
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.url("/v1/completions"))).timeout(Duration.ofSeconds(300))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return server.http.sendAsync(req, HttpResponse.BodyHandlers.ofLines()).thenApply(r -> {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
            return parse(r.body());
        });
    }

    private static Streamed parse(Stream<String> lines) {
        StringBuilder text = new StringBuilder();
        int chunks = 0;
        String finish = null;
        JsonNode usage = null;
        boolean done = false;
        for (String line : (Iterable<String>) lines::iterator) {
            if (!line.startsWith("data: ")) {
                assertThat(line).isEmpty();
                continue;
            }
            String data = line.substring(6);
            if (data.equals("[DONE]")) {
                done = true;
                continue;
            }
            JsonNode chunk;
            try {
                chunk = HttpIo.JSON.readTree(data);
            } catch (Exception e) {
                throw new AssertionError("not JSON: " + data, e);
            }
            assertThat(chunk.get("object").asText()).isEqualTo("text_completion");
            if (chunk.has("usage")) usage = chunk.get("usage");
            for (JsonNode choice : chunk.get("choices")) {
                text.append(choice.get("text").asText());
                chunks++;
                if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asText();
            }
        }
        return new Streamed(text.toString(), chunks, finish, usage, done);
    }
}
