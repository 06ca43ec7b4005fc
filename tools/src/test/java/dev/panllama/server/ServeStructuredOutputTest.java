package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Constrained output through the server on stories260K (which never saw JSON): OpenAI's
 * {@code response_format} (json_object, json_schema) and llama.cpp's {@code grammar} and
 * {@code json_schema}; the content parses and has the schema's shape.
 */
class ServeStructuredOutputTest {
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestFiles.stories260K(), 2, 1024, s -> s);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static final String SCHEMA = """
            {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12}, "legs": {"type": "integer", "minimum": 0},
             "kind": {"enum": ["cat", "dog"]}}, "required": ["name", "legs", "kind"]}""";

    @Test
    void chatWithAJsonSchemaAnswersJsonOfThatShape() throws Exception {
        for (int seed = 1; seed <= 3; seed++) {
            JsonNode r = TestServer.json(server.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"A pet?\"}],"
                    + " \"max_tokens\": 400, \"seed\": " + seed + ", \"temperature\": 1, \"response_format\": {\"type\": \"json_schema\","
                    + " \"json_schema\": {\"name\": \"pet\", \"schema\": " + SCHEMA + "}}}"));
            JsonNode choice = r.path("choices").get(0);
            assertThat(choice.path("finish_reason").asText()).as(r.toString()).isEqualTo("stop");
            JsonNode pet = HttpIo.JSON.readTree(choice.path("message").path("content").asText());
            assertThat(pet.path("name").isTextual()).isTrue();
            assertThat(pet.path("name").asText().length()).isLessThanOrEqualTo(12);
            assertThat(pet.path("legs").isIntegralNumber() && pet.path("legs").asLong() >= 0).as(pet.toString()).isTrue();
            assertThat(pet.path("kind").asText()).isIn("cat", "dog");
            assertThat(pet.size()).isEqualTo(3);
        }
        JsonNode object = TestServer.json(server.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}],"
                + " \"max_tokens\": 400, \"seed\": 4, \"temperature\": 1, \"response_format\": {\"type\": \"json_object\"}}"));
        String content = object.path("choices").get(0).path("message").path("content").asText();
        if (object.path("choices").get(0).path("finish_reason").asText().equals("stop")) {
            assertThat(HttpIo.JSON.readTree(content).isObject()).as(content).isTrue();
        } else {
            assertThat(content).startsWith("{");        // cut by max_tokens: a prefix of an object
        }
    }

    @Test
    void llamaCppGrammarAndJsonSchemaFields() throws Exception {
        JsonNode g = TestServer.json(server.post("/completion", "{\"prompt\": \"Once upon a time\", \"n_predict\": 60, \"seed\": 1,"
                + " \"grammar\": \"root ::= (\\\"yes\\\" | \\\"no\\\") \\\", \\\" [a-z]{2,8} \\\".\\\"\\n\"}"));
        assertThat(g.path("content").asText()).matches("(yes|no), [a-z]{2,8}\\.");
        assertThat(g.path("stop_type").asText()).isEqualTo("eos");
        JsonNode s = TestServer.json(server.post("/completion", "{\"prompt\": \"Once upon a time\", \"n_predict\": 400, \"seed\": 2,"
                + " \"json_schema\": " + SCHEMA + "}"));
        JsonNode pet = HttpIo.JSON.readTree(s.path("content").asText());
        assertThat(pet.path("kind").asText()).isIn("cat", "dog");
    }

    /** serve's --grammar: requests that ask for no grammar of their own follow it; one that does, its own. */
    @Test
    void theServersGrammarIsTheDefault() throws Exception {
        try (TestServer yesNo = TestServer.start(TestFiles.stories260K(), 1, 256,
                s -> s.withGrammar(dev.panllama.sampling.Grammar.parse("root ::= (\"yes\" | \"no\") \"!\"\n")))) {
            JsonNode r = TestServer.json(yesNo.post("/v1/completions", "{\"prompt\": \"Once upon a time\", \"max_tokens\": 20, \"seed\": 1}"));
            assertThat(r.path("choices").get(0).path("text").asText()).isIn("yes!", "no!");
            JsonNode own = TestServer.json(yesNo.post("/completion", "{\"prompt\": \"Once\", \"n_predict\": 20, \"seed\": 1, \"grammar\": \"root ::= \\\"ok\\\"\"}"));
            assertThat(own.path("content").asText()).isEqualTo("ok");
        }
    }
}
