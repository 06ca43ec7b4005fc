package dev.panllama.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** {@code panllama embedding} on the bundled model: llama-embedding's output formats, normalized vectors, the cosine matrix. */
class EmbeddingCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void formats() throws Exception {
        CliRun array = CliRun.of("embedding", "-p", "Once upon a time\\nThe little cat", "--embd-output-format", "array");
        assertThat(array.exitCode()).as(array.err()).isZero();
        JsonNode vectors = JSON.readTree(array.out());
        assertThat(vectors).hasSize(2);
        for (JsonNode v : vectors) {
            assertThat(v).hasSize(64);
            double norm = 0;
            for (JsonNode x : v) norm += x.asDouble() * x.asDouble();
            assertThat(Math.sqrt(norm)).isCloseTo(1.0, within(1e-5));
        }
        CliRun plain = CliRun.of("embedding", "-p", "Once upon a time\\nThe little cat");
        assertThat(plain.out()).contains("embedding 0: ").contains("embedding 1: ").contains("cosine similarity matrix:");
        assertThat(plain.out().lines().filter(l -> l.startsWith("  1.00")).count()).isEqualTo(1);
        JsonNode json = JSON.readTree(CliRun.of("embedding", "-p", "a cat\\na dog", "--embd-output-format", "json+").out());
        assertThat(json.path("data")).hasSize(2);
        assertThat(json.path("cosineSimilarity").get(0).get(0).asDouble()).isCloseTo(1.0, within(1e-5));
        JsonNode perToken = JSON.readTree(CliRun.of("embedding", "-p", "Once upon", "--pooling", "none", "--embd-output-format", "array").out());
        assertThat(perToken.size()).isGreaterThan(1);
        CliRun bad = CliRun.of("embedding", "-p", "x", "--embd-output-format", "xml");
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("--embd-output-format xml: must be '', array, json or json+");
    }
}
