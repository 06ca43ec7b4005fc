package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.testing.GgufCopies;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The endpoints' answers and the server's refusals: status, OpenAI's error body, the field named. */
class ServeApiTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestFiles.stories260K(), 2, 64, 2048);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void healthModelsAndMetrics() throws Exception {
        assertThat(TestServer.json(server.get("/health")).get("status").asText()).isEqualTo("ok");
        JsonNode models = TestServer.json(server.get("/v1/models"));
        assertThat(models.get("object").asText()).isEqualTo("list");
        assertThat(models.at("/data/0/id").asText()).isEqualTo("stories260K");
        assertThat(models.at("/data/0/meta/n_vocab").asInt()).isEqualTo(512);
        assertThat(models.at("/data/0/meta/n_ctx_slot").asInt()).isEqualTo(64);
        HttpResponse<String> metrics = server.get("/metrics");
        assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
        assertThat(metrics.body()).contains("# TYPE panllama_tokens_predicted_total counter", "panllama_slots_total 2",
                "panllama_requests_total{endpoint=\"/health\",status=\"200\"} ");
    }

    @Test
    void chatCompletionBody() throws Exception {
        HttpResponse<String> r = server.post("/v1/chat/completions",
                "{\"model\": \"anything\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Hi\"}]}],"
                        + " \"max_tokens\": 5, \"temperature\": 0, \"user\": \"ignored\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = TestServer.json(r);
        assertThat(body.get("id").asText()).startsWith("chatcmpl-");
        assertThat(body.get("object").asText()).isEqualTo("chat.completion");
        assertThat(body.get("model").asText()).isEqualTo("stories260K");
        assertThat(body.at("/choices/0/message/role").asText()).isEqualTo("assistant");
        assertThat(body.at("/choices/0/finish_reason").asText()).isEqualTo("length");
        assertThat(body.at("/usage/completion_tokens").asInt()).isEqualTo(5);
        assertThat(body.at("/usage/total_tokens").asInt()).isEqualTo(body.at("/usage/prompt_tokens").asInt() + 5);
        assertThat(body.at("/timings/predicted_n").asInt()).isEqualTo(5);
    }

    /** A stop string ends the text before it; the same seed gives the same sampled text. */
    @Test
    void stopStringsAndSeeds() throws Exception {
        JsonNode stopped = TestServer.json(server.post("/v1/completions",
                "{\"prompt\": \"Once upon a time\", \"max_tokens\": 30, \"temperature\": 0, \"stop\": [\" named\"]}"));
        assertThat(stopped.at("/choices/0/text").asText()).isEqualTo(", there was a little girl");
        assertThat(stopped.at("/choices/0/finish_reason").asText()).isEqualTo("stop");

        String sampled = "{\"prompt\": [1, 403, 407, 261, 378], \"max_tokens\": 12, \"temperature\": 1.0, \"top_k\": 0, \"top_p\": 1, \"min_p\": 0, \"seed\": 42}";
        String a = TestServer.json(server.post("/v1/completions", sampled)).at("/choices/0/text").asText();
        String b = TestServer.json(server.post("/v1/completions", sampled)).at("/choices/0/text").asText();
        assertThat(a).isEqualTo(b).isNotEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            not JSON             | {"prompt": "x",                                    | invalid JSON at line 1, column 16: unexpected end of input |
            not an object        | [1, 2]                                             | the request body must be a JSON object |
            no prompt            | {"max_tokens": 3}                                  | 'prompt' is required                  | prompt
            wrong type           | {"prompt": "x", "max_tokens": "ten"}               | 'max_tokens' must be an integer       | max_tokens
            out of range         | {"prompt": "x", "temperature": -1}                 | 'temperature' must be between 0 and 100 | temperature
            top_p range          | {"prompt": "x", "top_p": 1.5}                      | 'top_p' must be between 0 and 1       | top_p
            n is 1               | {"prompt": "x", "n": 2}                            | 'n' must be 1                         | n
            token outside vocab  | {"prompt": [1, 9999]}                              | token id 9999 is outside the vocabulary of 512 | prompt
            too long for a slot  | {"prompt": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65]} | the request exceeds the available context size | prompt
            echo                 | {"prompt": "x", "echo": true}                      | 'echo' is not supported               | echo
            logit_bias value     | {"prompt": "x", "logit_bias": {"13": "x"}}         | must be a number in [-100, 100] or false | logit_bias
            logit_bias key       | {"prompt": "x", "logit_bias": {"x": 1}}            | 'logit_bias' key 'x' is not a token id | logit_bias
            logit_bias range     | {"prompt": "x", "logit_bias": [[99999, 1]]}        | is outside the vocabulary             | logit_bias
            samplers unknown     | {"prompt": "x", "samplers": ["nucleus"]}           | unknown sampler 'nucleus'             | samplers
            mirostat range       | {"prompt": "x", "mirostat": 3}                     | 'mirostat' must be between 0 and 2    | mirostat
            stop type            | {"prompt": "x", "stop": [1]}                       | 'stop' must hold strings              | stop
            """)
    void completionRefusals(String what, String body, String message, String param) throws Exception {
        assertError(server.post("/v1/completions", body), 400, message, param);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            no messages          | {"max_tokens": 3}                                              | 'messages' is required           | messages
            empty messages       | {"messages": []}                                               | 'messages' must be a non-empty list | messages
            bad role             | {"messages": [{"role": "robot", "content": "x"}]}              | 'messages[0].role' must be system, developer, user, assistant or tool | messages[0].role
            tool message no id   | {"messages": [{"role": "tool", "content": "x"}]}               | 'messages[0].tool_call_id' is required | messages[0].tool_call_id
            tools                | {"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]} | 'tools[0]' must be {"type": "function" | tools[0]
            json format type     | {"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "xml"}} | must be text, json_object or json_schema | response_format
            json schema missing  | {"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema"}} | needs 'json_schema' | response_format
            bad schema           | {"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "rainbow"}}}} | unknown type 'rainbow' | response_format
            bad grammar          | {"messages": [{"role": "user", "content": "x"}], "grammar": "root ::= item"} | rule 'item' is used but never defined | grammar
            two grammars         | {"messages": [{"role": "user", "content": "x"}], "grammar": "root ::= [a]", "json_schema": {}} | give one of 'grammar', 'json_schema' | grammar
            image part           | {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]} | 'image_url' is not supported | messages[0].content
            stream not boolean   | {"messages": [{"role": "user", "content": "x"}], "stream": "yes"} | 'stream' must be true or false | stream
            """)
    void chatRefusals(String what, String body, String message, String param) throws Exception {
        assertError(server.post("/v1/chat/completions", body), 400, message, param);
    }

    static Stream<Arguments> malformedJson() {
        return Stream.of(
                Arguments.of("truncated", "{\"prompt\": \"x\",", "invalid JSON at line 1, column 16: unexpected end of input"),
                Arguments.of("truncated string", "{\"prompt\": \"Once upon", "invalid JSON at line 1, column 22: unexpected end of input"),
                Arguments.of("only whitespace", "  \n ", "invalid JSON at line 2, column 2: unexpected end of input"),
                Arguments.of("trailing comma", "{\"prompt\": \"x\",}", "invalid JSON at line 1, column 16: unexpected character '}'"),
                Arguments.of("trailing garbage", "{\"prompt\": \"x\"} garbage", "invalid JSON at line 1, column 17: unexpected text after the JSON value"),
                Arguments.of("two values", "{\"prompt\": \"x\"}{\"prompt\": \"y\"}", "invalid JSON at line 1, column 16: unexpected text after the JSON value"),
                Arguments.of("wrong token", "{\"prompt\": tru}", "invalid JSON at line 1, column 12: unexpected token 'tru'"),
                Arguments.of("NaN", "{\"prompt\": \"x\", \"temperature\": NaN}", "invalid JSON at line 1, column 32: unexpected token 'NaN'"),
                Arguments.of("single quotes", "{'prompt': 'x'}", "invalid JSON at line 1, column 2: unexpected character \"'\""),
                Arguments.of("second line", "{\"prompt\":\n  [1, 2,, 3]}", "invalid JSON at line 2, column 9: unexpected character ','"),
                Arguments.of("columns count characters", "{\"prompt\": \"\u00e9\" \"x\"}", "invalid JSON at line 1, column 16: unexpected character '\"'"),
                Arguments.of("duplicate field", "{\"prompt\": \"x\", \"prompt\": \"y\"}", "invalid JSON at line 1, column 25: duplicate field 'prompt'"),
                Arguments.of("tab in a string", "{\"prompt\": \"a\tb\"}", "invalid JSON at line 1, column 14: unexpected character U+0009"),
                Arguments.of("too deep", "[".repeat(1001), "invalid JSON at line 1, column 1001: nested deeper than 1000 levels"));
    }

    /** Bad JSON: where and what, in our words; nothing of Jackson's (its classes, features, source excerpts). */
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void malformedJson(String what, String body, String message) throws Exception {
        HttpResponse<String> r = server.post("/v1/completions", body);
        assertError(r, 400, message, null);
        assertThat(TestServer.json(r).at("/error/message").asText()).isEqualTo(message);
        assertThat(r.body()).doesNotContain("StreamReadFeature", "Source:", "REDACTED", "jackson", "Jackson", "(code ", "java.", "Exception");
    }

    @Test
    void invalidUtf8IsNamedWithItsPosition() throws Exception {
        byte[] body = "{\"prompt\": \"ab?\"}".getBytes(StandardCharsets.US_ASCII);
        body[14] = (byte) 0xC3;        // a two-byte sequence's lead, followed by '"'
        HttpResponse<String> r = server.http.send(HttpRequest.newBuilder(URI.create(server.url("/v1/completions")))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertError(r, 400, "invalid JSON at line 1, column 15: byte 0xc3 is not valid UTF-8", null);
    }

    @Test
    void sizeMethodAndPathErrors() throws Exception {
        assertError(server.post("/v1/completions", "{\"prompt\": \"" + "x".repeat(4000) + "\"}"), 413, "larger than 2048 bytes", null);
        HttpResponse<String> get = server.get("/v1/chat/completions");
        assertError(get, 405, "GET is not allowed on /v1/chat/completions", null);
        assertThat(get.headers().firstValue("Allow")).hasValue("POST");
        assertError(server.get("/v2/everything"), 404, "no endpoint /v2/everything", null);
        HttpResponse<String> chunked = server.http.send(HttpRequest.newBuilder(URI.create(server.url("/v1/completions")))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(("{\"prompt\": \"" + "y".repeat(5000) + "\"}").getBytes())))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertError(chunked, 413, "larger than 2048 bytes", null);
    }

    /** A model whose template rejects the conversation (raise_exception): 400 with the template's words. */
    @Test
    void aTemplateThatRaisesIsTheClientsError(@TempDir Path tmp) throws Exception {
        Path withTemplate = GgufCopies.withMetadata(TestFiles.stories260K(), tmp.resolve("templated.gguf"), w -> w.putString(
                "tokenizer.chat_template", "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}"
                        + "{% endif %}[{{ m.role }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}"));
        try (TestServer templated = TestServer.start(withTemplate, 1, 128, 1 << 20)) {
            assertError(templated.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"system\", \"content\": \"x\"}]}"), 400,
                    "the chat template rejected the conversation: System role not supported", "messages");
            HttpResponse<String> ok = templated.post("/v1/chat/completions",
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"Once upon a time\"}], \"max_tokens\": 3}");
            assertThat(ok.statusCode()).isEqualTo(200);
            int expectedPrompt = templated.model.tokenizer().encode("[user] Once upon a time\n[assistant] ", true, true).length;
            assertThat(TestServer.json(ok).at("/usage/prompt_tokens").asInt()).isEqualTo(expectedPrompt);
        }
    }

    private static void assertError(HttpResponse<String> r, int status, String message, String param) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        JsonNode error = TestServer.json(r).get("error");
        assertThat(error.get("message").asText()).contains(message);
        assertThat(error.get("type").asText()).isNotEmpty();
        if (param == null) assertThat(error.get("param").isNull()).isTrue();
        else assertThat(error.get("param").asText()).isEqualTo(param);
        assertThat(error.has("code")).isTrue();
    }
}
