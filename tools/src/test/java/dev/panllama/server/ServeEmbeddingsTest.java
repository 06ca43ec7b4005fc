package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.model.Embeddings;
import dev.panllama.model.Embeddings.Pooling;
import dev.panllama.model.Session;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * --embeddings on stories260K: /v1/embeddings and /embedding give the pooled, normalized final hidden
 * states that the Java API computes for the same text (to float rounding: the server's pass may take
 * other kernels' paths; |d| <= 1e-5 on unit vectors), in OpenAI's and llama.cpp's shapes.
 */
class ServeEmbeddingsTest {
    private static float[] reference(TestServer server, String text, Pooling pooling, int norm) {
        int[] tokens = server.model.tokenizer().encode(text, true, true);
        try (Session s = server.model.newSession(64)) {
            float[] hidden = s.hiddenStates(tokens);
            float[] v = Embeddings.pool(hidden, tokens.length, server.model.config().embeddingLength(), pooling)[0];
            Embeddings.normalize(v, norm);
            return v;
        }
    }

    private static void assertClose(JsonNode array, float[] expected) {
        assertThat(array).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) assertThat(array.get(i).floatValue()).isCloseTo(expected[i], within(1e-5f));
    }

    @Test
    void meanPooledEmbeddingsInBothShapes() throws Exception {
        try (TestServer server = TestServer.start(TestFiles.stories260K(), 2, 64, s -> s.withEmbeddings(Pooling.MEAN))) {
            String a = "Once upon a time", b = "The little dog ran home";
            JsonNode r = TestServer.json(server.post("/v1/embeddings", "{\"input\": [\"" + a + "\", \"" + b + "\"], \"model\": \"x\"}"));
            assertThat(r.path("object").asText()).isEqualTo("list");
            assertThat(r.path("data")).hasSize(2);
            assertClose(r.path("data").get(0).path("embedding"), reference(server, a, Pooling.MEAN, 2));
            assertClose(r.path("data").get(1).path("embedding"), reference(server, b, Pooling.MEAN, 2));
            assertThat(r.path("data").get(1).path("index").asInt()).isEqualTo(1);
            int tokens = server.model.tokenizer().encode(a, true, true).length + server.model.tokenizer().encode(b, true, true).length;
            assertThat(r.path("usage").path("prompt_tokens").asInt()).isEqualTo(tokens);

            JsonNode b64 = TestServer.json(server.post("/v1/embeddings", "{\"input\": \"" + a + "\", \"encoding_format\": \"base64\"}"));
            ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(b64.path("data").get(0).path("embedding").asText())).order(ByteOrder.LITTLE_ENDIAN);
            float[] decoded = new float[bytes.remaining() / 4];
            for (int i = 0; i < decoded.length; i++) decoded[i] = bytes.getFloat();
            assertThat(decoded).containsExactly(floats(r.path("data").get(0).path("embedding")));

            JsonNode native_ = TestServer.json(server.post("/embedding", "{\"content\": \"" + a + "\", \"embd_normalize\": -1}"));
            assertThat(native_.isArray()).isTrue();
            assertClose(native_.get(0).path("embedding").get(0), reference(server, a, Pooling.MEAN, -1));

            // The slots' caches are left empty: a completion afterwards reuses nothing of an embedding.
            assertThat(server.server.slots().cachedTokens()).isZero();
            HttpResponse<String> bad = server.post("/v1/embeddings", "{\"input\": 5}");
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(server.post("/v1/embeddings", "{\"input\": \"x\", \"encoding_format\": \"int8\"}").statusCode()).isEqualTo(400);
        }
    }

    @Test
    void noPoolingGivesAVectorPerTokenOnlyInLlamaCppsShape() throws Exception {
        try (TestServer server = TestServer.start(TestFiles.stories260K(), 1, 64, s -> s.withEmbeddings(Pooling.NONE))) {
            String a = "Once upon a time";
            int n = server.model.tokenizer().encode(a, true, true).length;
            JsonNode r = TestServer.json(server.post("/embedding", "{\"content\": \"" + a + "\"}"));
            assertThat(r.get(0).path("embedding")).hasSize(n);
            assertThat(r.get(0).path("embedding").get(0)).hasSize(server.model.config().embeddingLength());
            HttpResponse<String> oai = server.post("/v1/embeddings", "{\"input\": \"" + a + "\"}");
            assertThat(oai.statusCode()).isEqualTo(400);
            assertThat(oai.body()).contains("--pooling mean");
        }
    }

    @Test
    void withoutEmbeddingsTheEndpointsAre501() throws Exception {
        try (TestServer server = TestServer.start(TestFiles.stories260K(), 1, 64, s -> s)) {
            HttpResponse<String> r = server.post("/v1/embeddings", "{\"input\": \"x\"}");
            assertThat(r.statusCode()).isEqualTo(501);
            assertThat(r.body()).contains("--embeddings");
        }
    }

    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).floatValue();
        return out;
    }
}
