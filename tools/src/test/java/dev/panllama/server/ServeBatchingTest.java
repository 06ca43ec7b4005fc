package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Continuous batching must not change outputs: 8 greedy requests on zoo-llama-Q4_0 (integer-dot kernels)
 * give the same tokens when each runs alone and when all 8 run at once, their generated tokens batched
 * in the decode loop's passes (checked through /metrics: passes averaged several slots). The prompts
 * are token lists of 3 to 40 tokens, so both prompt paths (per-row dots under 16 tokens, the float
 * GEMM from 16) are crossed with batched generation.
 */
class ServeBatchingTest {
    private static final int STREAMS = 8;
    private static final int TOKENS = 24;

    @Test
    void greedyOutputsAreTheSameAloneAndBesideSevenOthers() throws Exception {
        try (TestServer server = TestServer.start(TestFiles.bundled("zoo/zoo-llama-Q4_0.gguf"), STREAMS, 128, 1 << 20)) {
            int vocab = server.model.config().vocabSize();
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < STREAMS; i++) {
                int n = 3 + i * 37 / (STREAMS - 1);
                int seed = i;
                prompts.add(IntStream.range(0, n).map(t -> 1 + (t * 31 + seed * 97) % (vocab - 1)).toArray());
            }
            List<String> alone = new ArrayList<>();
            for (int[] p : prompts) alone.add(complete(server, p).get(60, TimeUnit.SECONDS));
            assertThat(new HashSet<>(alone)).as("a different text per prompt").hasSize(STREAMS);

            double passes0 = server.metric("panllama_decode_total");
            double slots0 = passes0 * server.metric("panllama_busy_slots_per_decode");
            List<CompletableFuture<String>> together = prompts.stream().map(p -> complete(server, p)).toList();
            CompletableFuture.allOf(together.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            double passes1 = server.metric("panllama_decode_total");
            double passes = passes1 - passes0;
            double slots = passes1 * server.metric("panllama_busy_slots_per_decode") - slots0;

            for (int i = 0; i < STREAMS; i++) {
                assertThat(together.get(i).get()).as("request %d (%d prompt tokens) beside %d others", i, prompts.get(i).length, STREAMS - 1)
                        .isEqualTo(alone.get(i));
            }
            // Alone, a request takes 1 prompt pass and TOKENS - 1 generation passes of one slot each.
            assertThat(slots / passes).as("slots per decode pass while 8 ran").isGreaterThan(2.0);
            assertThat(passes).as("decode passes while 8 ran").isLessThan(STREAMS * TOKENS / 2.0);
        }
    }

    private static CompletableFuture<String> complete(TestServer server, int[] prompt) {
        String tokens = Arrays.stream(prompt).mapToObj(Integer::toString).collect(Collectors.joining(",", "[", "]"));
        String body = "{\"prompt\": " + tokens + ", \"max_tokens\": " + TOKENS + ", \"temperature\": 0, \"ignore_eos\": true}";
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.url("/v1/completions"))).timeout(Duration.ofSeconds(120))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return server.http.sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            try {
                JsonNode choice = TestServer.json(r).get("choices").get(0);
                assertThat(choice.get("finish_reason").asText()).isEqualTo("length");
                return choice.get("text").asText();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }
}
