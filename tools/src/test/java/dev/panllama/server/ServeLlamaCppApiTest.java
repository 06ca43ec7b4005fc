package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.generate.CachedSession;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * llama.cpp's own {@code POST /completion} and lists of prompts, on stories260K (greedy): the text is
 * what the Java API gives for the same prompt, and the fields say what happened (stop_type, tokens,
 * cache use, timings).
 */
class ServeLlamaCppApiTest {
    private static final String PROMPT = "Once upon a time";
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestFiles.stories260K(), 2, 128, s -> s.withDefaultMaxTokens(12));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String expected(String prompt, int tokens, List<String> stop) {
        try (CachedSession s = new CachedSession(server.model.newSession(128))) {
            return Completion.run(s, server.model.tokenizer(), server.model.tokenizer().encode(prompt, true, true),
                    new CompletionSettings(tokens, SamplerParams.GREEDY, stop, false), t -> true).text();
        }
    }

    @Test
    void completionAnswersInLlamaCppsForm() throws Exception {
        HttpResponse<String> r = server.post("/completion", "{\"prompt\": \"" + PROMPT + "\", \"n_predict\": 16, \"temperature\": 0, \"return_tokens\": true}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode o = TestServer.json(r);
        assertThat(o.path("content").asText()).isEqualTo(expected(PROMPT, 16, List.of()));
        assertThat(o.path("stop").asBoolean()).isTrue();
        assertThat(o.path("stop_type").asText()).isEqualTo("limit");
        assertThat(o.path("tokens_predicted").asInt()).isEqualTo(16);
        assertThat(o.path("tokens_evaluated").asInt()).isEqualTo(server.model.tokenizer().encode(PROMPT, true, true).length);
        assertThat(o.path("model").asText()).isEqualTo("stories260K");
        assertThat(o.path("generation_settings").path("n_predict").asInt()).isEqualTo(16);
        assertThat(o.path("timings").path("predicted_n").asInt()).isEqualTo(16);
        int[] tokens = o.path("tokens").valueStream().mapToInt(JsonNode::asInt).toArray();
        assertThat(tokens).hasSize(16);
        assertThat(server.model.tokenizer().decode(tokens, false, false)).isEqualTo(o.path("content").asText());
        // The prompt then 15 of the 16 tokens are in the slot's cache (the last one sampled is never evaluated).
        assertThat(o.path("tokens_cached").asInt()).isEqualTo(o.path("tokens_evaluated").asInt() + 15);
    }

    @Test
    void stopWordAndDefaultTokenCount() throws Exception {
        String full = expected(PROMPT, 30, List.of());
        String word = "Lily";
        assertThat(full).contains(word);
        JsonNode o = TestServer.json(server.post("/completion", "{\"prompt\": \"" + PROMPT + "\", \"n_predict\": 30, \"temperature\": 0, \"stop\": [\"" + word + "\"]}"));
        assertThat(o.path("stop_type").asText()).isEqualTo("word");
        assertThat(o.path("stopping_word").asText()).isEqualTo(word);
        assertThat(o.path("content").asText()).isEqualTo(full.substring(0, full.indexOf(word)));
        // No n_predict: the server's -n (12 here).
        JsonNode d = TestServer.json(server.post("/completion", "{\"prompt\": \"" + PROMPT + "\", \"temperature\": 0}"));
        assertThat(d.path("tokens_predicted").asInt()).isEqualTo(12);
        assertThat(d.path("tokens").isEmpty()).as("no return_tokens: no tokens").isTrue();
    }

    @Test
    void cachePromptReusesTheSlotsCacheUnlessTurnedOff() throws Exception {
        String body = "{\"prompt\": \"Once upon a time, there was a little dog named Max\", \"n_predict\": 4, \"temperature\": 0";
        JsonNode first = TestServer.json(server.post("/completion", body + "}"));
        JsonNode again = TestServer.json(server.post("/completion", body + "}"));
        int prompt = first.path("tokens_evaluated").asInt();
        assertThat(again.path("timings").path("cache_n").asInt()).isEqualTo(prompt - 1);
        assertThat(again.path("content").asText()).isEqualTo(first.path("content").asText());
        JsonNode fresh = TestServer.json(server.post("/completion", body + ", \"cache_prompt\": false}"));
        assertThat(fresh.path("timings").path("cache_n").asInt()).isZero();
        assertThat(fresh.path("timings").path("prompt_n").asInt()).isEqualTo(prompt);
        assertThat(fresh.path("content").asText()).isEqualTo(first.path("content").asText());
    }

    @Test
    void streamSendsPiecesThenTheWholeObjectWithoutDone() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.url("/completion"))).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"" + PROMPT + "\", \"n_predict\": 16, \"temperature\": 0, \"stream\": true}")).build();
        List<String> lines = server.http.send(req, HttpResponse.BodyHandlers.ofLines()).body().filter(l -> !l.isEmpty()).toList();
        StringBuilder text = new StringBuilder();
        JsonNode last = null;
        for (String line : lines) {
            assertThat(line).startsWith("data: ").doesNotContain("[DONE]");
            last = HttpIo.JSON.readTree(line.substring(6));
            if (!last.path("stop").asBoolean()) text.append(last.path("content").asText());
        }
        assertThat(lines.size()).isGreaterThan(2);
        assertThat(text.toString()).isEqualTo(expected(PROMPT, 16, List.of()));
        assertThat(last.path("stop").asBoolean()).isTrue();
        assertThat(last.path("stop_type").asText()).isEqualTo("limit");
        assertThat(last.path("content").asText()).isEmpty();
    }

    @Test
    void aListOfPromptsIsAnsweredPromptByPrompt() throws Exception {
        List<String> prompts = List.of("Once upon a time", "The cat", "Lily and Tom went");
        List<String> expected = new ArrayList<>();
        for (String p : prompts) expected.add(expected(p, 8, List.of()));
        String list = "[\"" + String.join("\", \"", prompts) + "\"]";

        JsonNode oai = TestServer.json(server.post("/v1/completions", "{\"prompt\": " + list + ", \"max_tokens\": 8, \"temperature\": 0}"));
        assertThat(oai.path("choices")).hasSize(3);
        int promptTokens = 0;
        for (int i = 0; i < 3; i++) {
            assertThat(oai.path("choices").get(i).path("index").asInt()).isEqualTo(i);
            assertThat(oai.path("choices").get(i).path("text").asText()).isEqualTo(expected.get(i));
            promptTokens += server.model.tokenizer().encode(prompts.get(i), true, true).length;
        }
        assertThat(oai.path("usage").path("completion_tokens").asInt()).isEqualTo(24);
        assertThat(oai.path("usage").path("prompt_tokens").asInt()).isEqualTo(promptTokens);

        JsonNode native_ = TestServer.json(server.post("/completion", "{\"prompt\": " + list + ", \"n_predict\": 8, \"temperature\": 0}"));
        assertThat(native_.isArray()).isTrue();
        for (int i = 0; i < 3; i++) {
            assertThat(native_.get(i).path("index").asInt()).isEqualTo(i);
            assertThat(native_.get(i).path("content").asText()).isEqualTo(expected.get(i));
        }

        HttpResponse<String> bad = server.post("/v1/completions", "{\"prompt\": [\"fine\", 5]}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(TestServer.json(bad).path("error").path("param").asText()).isEqualTo("prompt[1]");
    }

    @Test
    void unsupportedFieldsAreRefused() throws Exception {
        for (String field : new String[]{"\"grammar\": \"root ::= x\"", "\"n_probs\": 30", "\"id_slot\": 1"}) {     // x: no such rule
            HttpResponse<String> r = server.post("/completion", "{\"prompt\": \"x\", " + field + "}");
            assertThat(r.statusCode()).as(field).isEqualTo(400);
        }
    }

    /** --context-shift: a request past its slot's context goes on (n_keep as asked); without it, it ends with "limit" at the full slot. */
    @Test
    void contextShiftLetsARequestRunPastItsSlot() throws Exception {
        String body = "{\"prompt\": \"" + PROMPT + "\", \"n_predict\": 150, \"temperature\": 0, \"n_keep\": 2}";
        JsonNode stopped = TestServer.json(server.post("/completion", body));
        assertThat(stopped.path("tokens_predicted").asInt()).isLessThan(150);
        try (TestServer shifting = TestServer.start(TestFiles.stories260K(), 1, 128,
                s -> s.withContextShift(new dev.panllama.model.ContextShift(true, 0)))) {
            JsonNode r = TestServer.json(shifting.post("/completion", body));
            assertThat(r.path("tokens_predicted").asInt()).isEqualTo(150);
            assertThat(r.path("stop_type").asText()).isEqualTo("limit");
            assertThat(r.path("content").asText()).startsWith(stopped.path("content").asText());
            assertThat(r.path("tokens_cached").asInt()).isLessThanOrEqualTo(128);
        }
    }

    /** Log probabilities in all three shapes: llama.cpp's n_probs, OpenAI chat's logprobs, the legacy completions'. */
    @Test
    void logprobsInEachShape() throws Exception {
        JsonNode n = TestServer.json(server.post("/completion", "{\"prompt\": \"" + PROMPT + "\", \"n_predict\": 6, \"temperature\": 0, \"n_probs\": 2}"));
        JsonNode probs = n.path("completion_probabilities");
        assertThat(probs).hasSize(6);
        StringBuilder text = new StringBuilder();
        for (JsonNode p : probs) {
            assertThat(p.path("top_logprobs")).hasSize(2);
            assertThat(p.path("top_logprobs").get(0).path("id").asInt()).isEqualTo(p.path("id").asInt());
            assertThat(p.path("logprob").asDouble()).isLessThanOrEqualTo(0);
            text.append(p.path("token").asText());
        }
        assertThat(text.toString()).isEqualTo(n.path("content").asText());

        JsonNode chat = TestServer.json(server.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}],"
                + " \"max_tokens\": 5, \"temperature\": 0, \"logprobs\": true, \"top_logprobs\": 3}"));
        JsonNode content = chat.path("choices").get(0).path("logprobs").path("content");
        assertThat(content).hasSize(5);
        assertThat(content.get(0).path("top_logprobs")).hasSize(3);
        assertThat(content.get(0).path("bytes").isArray()).isTrue();

        // Streamed: each chunk carries its own tokens' entries, all of them once.
        HttpRequest streamReq = HttpRequest.newBuilder(URI.create(server.url("/v1/chat/completions"))).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 5,"
                        + " \"temperature\": 0, \"logprobs\": true, \"stream\": true}")).build();
        int entries = 0;
        for (String line : server.http.send(streamReq, HttpResponse.BodyHandlers.ofLines()).body().toList()) {
            if (!line.startsWith("data: {")) continue;
            JsonNode c = HttpIo.JSON.readTree(line.substring(6)).path("choices").path(0).path("logprobs").path("content");
            entries += c.size();
        }
        assertThat(entries).isEqualTo(5);

        JsonNode legacy = TestServer.json(server.post("/v1/completions", "{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 4, \"temperature\": 0, \"logprobs\": 1}"));
        JsonNode lp = legacy.path("choices").get(0).path("logprobs");
        assertThat(lp.path("tokens")).hasSize(4);
        assertThat(lp.path("token_logprobs")).hasSize(4);
        assertThat(lp.path("text_offset").get(0).asInt()).isZero();
        assertThat(lp.path("top_logprobs").get(0).size()).isEqualTo(1);
        JsonNode none = TestServer.json(server.post("/v1/completions", "{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 2}"));
        assertThat(none.path("choices").get(0).path("logprobs").isNull()).isTrue();
        assertThat(server.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"top_logprobs\": 2}")
                .statusCode()).isEqualTo(400);
    }

    /** llama.cpp's samplers by request: a banned token never comes; DRY, XTC, typical, top-n-sigma and Mirostat run and answer. */
    @Test
    void samplerFieldsApply() throws Exception {
        JsonNode plain = TestServer.json(server.post("/completion", "{\"prompt\": \"" + PROMPT + "\", \"n_predict\": 1, \"temperature\": 0, \"return_tokens\": true}"));
        int first = plain.path("tokens").get(0).asInt();
        JsonNode banned = TestServer.json(server.post("/completion", "{\"prompt\": \"" + PROMPT + "\", \"n_predict\": 1, \"temperature\": 0,"
                + " \"return_tokens\": true, \"logit_bias\": [[" + first + ", false]]}"));
        assertThat(banned.path("tokens").get(0).asInt()).isNotEqualTo(first);
        JsonNode oai = TestServer.json(server.post("/v1/completions", "{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 1, \"temperature\": 0,"
                + " \"logit_bias\": {\"" + first + "\": -100}}"));
        assertThat(oai.path("choices").get(0).path("text").asText()).isNotEqualTo(plain.path("content").asText());
        for (String extra : new String[]{"\"dry_multiplier\": 0.8", "\"xtc_probability\": 0.5, \"xtc_threshold\": 0.1", "\"typical_p\": 0.5",
                "\"top_n_sigma\": 1.0", "\"mirostat\": 2, \"mirostat_tau\": 3", "\"mirostat\": 1", "\"samplers\": \"top_k;temperature\""}) {
            HttpResponse<String> r = server.post("/completion", "{\"prompt\": \"" + PROMPT + "\", \"n_predict\": 8, \"seed\": 3, " + extra + "}");
            assertThat(r.statusCode()).as(extra + ": " + r.body()).isEqualTo(200);
            assertThat(TestServer.json(r).path("tokens_predicted").asInt()).as(extra).isPositive();
        }
    }
}
