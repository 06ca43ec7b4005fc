package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tool calls through /v1/chat/completions on stories260K (ChatML, a template that knows no tools: the
 * generic format): with tool_choice required or a named function the grammar makes even this model
 * call a listed tool with arguments of its schema; the reply comes back as OpenAI's tool_calls, blocking
 * and streaming, and a conversation with the call and its result is accepted.
 */
class ServeToolCallsTest {
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestFiles.stories260K(), 2, 1024, s -> s);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static final String TOOLS = """
            [{"type": "function", "function": {"name": "get_weather", "description": "The weather in a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}}, "required": ["city"]}}},
             {"type": "function", "function": {"name": "roll_dice", "description": "Rolls dice",
              "parameters": {"type": "object", "properties": {"sides": {"type": "integer", "minimum": 0}}, "required": ["sides"]}}}]""";

    private static JsonNode chat(String extra) throws Exception {
        HttpResponse<String> r = server.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"What is the weather in Paris?\"}],"
                + " \"tools\": " + TOOLS + ", \"max_tokens\": 700, \"seed\": 2, \"temperature\": 1, " + extra + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return TestServer.json(r);
    }

    @Test
    void requiredAndNamedChoicesGiveCalls() throws Exception {
        JsonNode required = chat("\"tool_choice\": \"required\"").path("choices").get(0);
        assertThat(required.path("finish_reason").asText()).isEqualTo("tool_calls");
        JsonNode call = required.path("message").path("tool_calls").get(0);
        assertThat(call.path("type").asText()).isEqualTo("function");
        assertThat(call.path("id").asText()).startsWith("call_");
        assertThat(call.path("function").path("name").asText()).isIn("get_weather", "roll_dice");
        JsonNode args = HttpIo.JSON.readTree(call.path("function").path("arguments").asText());
        assertThat(args.has("city") || args.has("sides")).as(args.toString()).isTrue();
        assertThat(required.path("message").path("content").isNull()).isTrue();

        JsonNode named = chat("\"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"roll_dice\"}}").path("choices").get(0);
        JsonNode dice = named.path("message").path("tool_calls").get(0).path("function");
        assertThat(dice.path("name").asText()).isEqualTo("roll_dice");
        assertThat(HttpIo.JSON.readTree(dice.path("arguments").asText()).path("sides").isIntegralNumber()).isTrue();

        // Parallel calls: a list of them (at most 8 when a grammar forces them).
        JsonNode parallel = chat("\"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"roll_dice\"}}, \"parallel_tool_calls\": true")
                .path("choices").get(0);
        assertThat(parallel.path("message").path("tool_calls").size()).as(parallel.toString()).isBetween(1, 8);

        // auto: the generic format's grammar still holds the reply to a call or a response.
        JsonNode auto = chat("\"tool_choice\": \"auto\"").path("choices").get(0);
        assertThat(auto.path("message").path("tool_calls").size() > 0 || auto.path("message").path("content").isTextual()).isTrue();
    }

    @Test
    void streamingSendsTheCallAsADelta() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.url("/v1/chat/completions"))).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": [{\"role\": \"user\", \"content\": \"Roll.\"}], \"tools\": " + TOOLS
                        + ", \"tool_choice\": \"required\", \"max_tokens\": 300, \"seed\": 3, \"stream\": true}")).build();
        JsonNode callDelta = null;
        String finish = null;
        for (String line : server.http.send(req, HttpResponse.BodyHandlers.ofLines()).body().toList()) {
            if (!line.startsWith("data: {")) continue;
            JsonNode choice = HttpIo.JSON.readTree(line.substring(6)).path("choices").get(0);
            if (choice.path("delta").has("tool_calls")) callDelta = choice.path("delta").path("tool_calls").get(0);
            if (!choice.path("finish_reason").isNull()) finish = choice.path("finish_reason").asText();
        }
        assertThat(callDelta).isNotNull();
        assertThat(callDelta.path("index").asInt()).isZero();
        assertThat(callDelta.path("function").path("name").asText()).isIn("get_weather", "roll_dice");
        assertThat(finish).isEqualTo("tool_calls");
    }

    @Test
    void aConversationWithTheCallAndItsResultIsAccepted() throws Exception {
        HttpResponse<String> r = server.post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "What is the weather in Paris?"},
                  {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]},
                  {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21 C"}],
                 "tools": %s, "tool_choice": "none", "max_tokens": 8, "temperature": 0}""".formatted(TOOLS));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(TestServer.json(r).path("choices").get(0).path("message").path("content").isTextual()).isTrue();
    }

    @Test
    void badToolRequestsAre400() throws Exception {
        String user = "\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]";
        assertError(server.post("/v1/chat/completions", "{" + user + ", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"bad name\"}}]}"),
                "must be 1 to 64 of a-z");
        assertError(server.post("/v1/chat/completions", "{" + user + ", \"tools\": " + TOOLS + ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"fly\"}}}"),
                "'tool_choice' names 'fly', which is not among the tools");
        assertError(server.post("/v1/chat/completions", "{" + user + ", \"tool_choice\": \"required\"}"), "there are no 'tools'");
        assertError(server.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}"), "'messages[0].tool_call_id' is required on a tool message");
        assertError(server.post("/v1/chat/completions", "{" + user + ", \"tools\": " + TOOLS + ", \"tool_choice\": \"required\", \"response_format\": {\"type\": \"json_object\"}}"),
                "cannot be combined");
    }

    private static void assertError(HttpResponse<String> r, String message) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(TestServer.json(r).path("error").path("message").asText()).contains(message);
    }
}
