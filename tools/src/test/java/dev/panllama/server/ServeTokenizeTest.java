package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** llama-server's /tokenize, /detokenize, /apply-template, /props, /slots and models.retrieve, checked against the model's own tokenizer, template and settings. */
class ServeTokenizeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestFiles.stories260K(), 1, 64, 4096);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void tokenizeAndDetokenizeRoundTripWithTheModelsTokenizer() throws Exception {
        String text = "Once upon a time, there was a little dog.";
        HttpResponse<String> r = server.post("/tokenize", "{\"content\": \"" + text + "\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        int[] tokens = JSON.readTree(r.body()).path("tokens").valueStream().mapToInt(JsonNode::asInt).toArray();
        assertThat(tokens).containsExactly(server.model.tokenizer().encode(text, false, true));

        JsonNode special = JSON.readTree(server.post("/tokenize", "{\"content\": \"" + text + "\", \"add_special\": true}").body());
        assertThat(special.path("tokens").get(0).asInt()).isEqualTo(server.model.tokenizer().bos());
        assertThat(special.path("tokens").size()).isEqualTo(tokens.length + 1);

        JsonNode pieces = JSON.readTree(server.post("/tokenize", "{\"content\": \"Once upon\", \"with_pieces\": true}").body()).path("tokens");
        StringBuilder joined = new StringBuilder();
        for (JsonNode p : pieces) {
            assertThat(p.path("id").isInt()).isTrue();
            joined.append(p.path("piece").asText());
        }
        assertThat(joined.toString().strip()).isEqualTo("Once upon");

        StringBuilder ids = new StringBuilder();
        for (int t : tokens) ids.append(ids.isEmpty() ? "" : ",").append(t);
        HttpResponse<String> d = server.post("/detokenize", "{\"tokens\": [" + ids + "]}");
        assertThat(d.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(d.body()).path("content").asText().strip()).isEqualTo(text);
    }

    @Test
    void badFieldsAre400NamingTheField() throws Exception {
        assertError(server.post("/tokenize", "{\"content\": 5}"), "content", "'content' must be a string, not the number 5");
        assertError(server.post("/tokenize", "{\"content\": \"x\", \"with_pieces\": \"yes\"}"), "with_pieces", "'with_pieces' must be a boolean");
        assertError(server.post("/detokenize", "{\"tokens\": [1, 99999]}"), "tokens", "'tokens[1]' must be a token id in [0, 512)");
        assertError(server.post("/detokenize", "{\"tokens\": \"1 2\"}"), "tokens", "'tokens' must be an array of token ids");
    }

    @Test
    void modelsRetrieveAnswersTheServedModelOnly() throws Exception {
        HttpResponse<String> r = server.get("/v1/models/stories260K");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode m = JSON.readTree(r.body());
        assertThat(m.path("id").asText()).isEqualTo("stories260K");
        assertThat(m.path("object").asText()).isEqualTo("model");
        HttpResponse<String> other = server.get("/v1/models/gpt-4");
        assertThat(other.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(other.body()).path("error").path("message").asText()).isEqualTo("no model 'gpt-4' (this server has 'stories260K')");
    }

    @Test
    void applyTemplateRendersWhatChatCompletionsWouldEvaluate() throws Exception {
        HttpResponse<String> r = server.post("/apply-template", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}");
        assertThat(r.statusCode()).isEqualTo(200);
        String prompt = JSON.readTree(r.body()).path("prompt").asText();
        assertThat(prompt).isEqualTo(server.format.render(java.util.List.of(new dev.panllama.chat.ChatMessage("user", "Hi")), true));
        assertThat(prompt).contains("Hi");
        assertError(server.post("/apply-template", "{\"messages\": 3}"), "messages", "");
    }

    @Test
    void propsAndSlotsDescribeTheServer() throws Exception {
        JsonNode props = JSON.readTree(server.get("/props").body());
        assertThat(props.path("total_slots").asInt()).isEqualTo(1);
        assertThat(props.path("default_generation_settings").path("n_ctx").asInt()).isEqualTo(64);
        assertThat(props.path("default_generation_settings").path("params").path("top_k").asInt()).isEqualTo(40);
        assertThat(props.path("model_path").asText()).endsWith("stories260K.gguf");
        assertThat(server.post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 3, \"temperature\": 0}").statusCode()).isEqualTo(200);
        JsonNode slots = JSON.readTree(server.get("/slots").body());
        assertThat(slots.size()).isEqualTo(1);
        assertThat(slots.get(0).path("id").asInt()).isZero();
        assertThat(slots.get(0).path("n_ctx").asInt()).isEqualTo(64);
        assertThat(slots.get(0).path("is_processing").asBoolean()).isFalse();
        assertThat(slots.get(0).path("n_cached_tokens").asInt()).isPositive();
    }

    private static void assertError(HttpResponse<String> r, String param, String messageStart) throws Exception {
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode error = JSON.readTree(r.body()).path("error");
        assertThat(error.path("param").asText()).isEqualTo(param);
        assertThat(error.path("message").asText()).startsWith(messageStart);
    }
}
