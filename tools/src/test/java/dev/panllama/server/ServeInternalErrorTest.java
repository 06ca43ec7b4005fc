package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.chat.ChatFormat;
import dev.panllama.chat.ChatMessage;
import dev.panllama.chat.ChatTemplate;
import dev.panllama.testing.TestFiles;
import dev.panllama.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Java {@code Error} (or any other throwable) while a request is handled: the client gets a 500 with
 * OpenAI's error body, or, once a stream has begun, an error event and a properly ended stream; /metrics
 * counts it; the slot is freed and the server goes on serving. The errors come from a chat template and a
 * tokenizer that throw, given to the server in place of the model's own.
 */
class ServeInternalErrorTest {
    private static final String CHAT = "/v1/chat/completions";

    /** Renders with the model's template, unless the last message asks for an error. */
    private record FailingTemplate(ChatTemplate real) implements ChatTemplate {
        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            switch (messages.getLast().content()) {
                case "internal" -> throw new InternalError("a simulated JVM failure");
                case "oom" -> throw new OutOfMemoryError("Java heap space");
                case "recurse" -> {
                    return render(messages, addGenerationPrompt) + "!";      // a real StackOverflowError
                }
                case "illegal" -> throw new IllegalStateException("a simulated bug");
                case "mapped" -> throw new InternalError("a fault occurred in an unsafe memory access operation");
                default -> {
                    return real.render(messages, addGenerationPrompt);
                }
            }
        }

        @Override
        public String description() { return "failing test template"; }
    }

    private static ChatFormat failingTemplate(ChatFormat f) {
        return new ChatFormat(new FailingTemplate(f.template()), f.tokenizer());
    }

    /**
     * The model's tokenizer, except that turning a token into text throws an InternalError once the format is
     * built (ChatFormat itself looks up the BOS and EOS texts): generation fails at its first token.
     */
    private static ChatFormat failingDetokenizer(ChatFormat f) {
        Tokenizer real = f.tokenizer();
        AtomicBoolean armed = new AtomicBoolean();
        Tokenizer failing = (Tokenizer) Proxy.newProxyInstance(Tokenizer.class.getClassLoader(), new Class<?>[]{Tokenizer.class}, (proxy, m, args) -> {
            if (armed.get() && m.getName().equals("tokenToPiece")) throw new InternalError("detokenizer exploded");
            try {
                return m.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
        ChatFormat format = new ChatFormat(f.template(), failing);
        armed.set(true);
        return format;
    }

    /** The JVM's report of a faulting read of the mapped model names the model file, not the JVM's words. */
    @Test
    void aFaultingReadOfTheMappedModelNamesTheFile() throws Exception {
        try (TestServer server = TestServer.start(TestFiles.stories260K(), 1, 64, 1 << 20, Duration.ofSeconds(600),
                ServeInternalErrorTest::failingTemplate)) {
            HttpResponse<String> r = chat(server, "mapped", false);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(500);
            assertThat(TestServer.json(r).get("error").get("message").asText())
                    .startsWith("reading ").contains("stories260K.gguf failed").endsWith("--no-mmap reads the model into memory instead");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            internal | internal server error: InternalError: a simulated JVM failure
            oom      | internal server error: OutOfMemoryError: Java heap space
            recurse  | internal server error: StackOverflowError
            illegal  | internal server error: IllegalStateException: a simulated bug
            """)
    void anErrorBeforeTheResponseIsA500WithOpenAisErrorBody(String what, String message) throws Exception {
        try (TestServer server = TestServer.start(TestFiles.stories260K(), 1, 64, 1 << 20, Duration.ofSeconds(600),
                ServeInternalErrorTest::failingTemplate)) {
            HttpResponse<String> r = chat(server, what, false);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(500);
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
            JsonNode error = TestServer.json(r).get("error");
            assertThat(error.get("message").asText()).isEqualTo(message);
            assertThat(error.get("type").asText()).isEqualTo("server_error");
            assertThat(error.get("param").isNull()).isTrue();
            assertThat(error.has("code")).isTrue();
            String counted = "panllama_requests_total{endpoint=\"" + CHAT + "\",status=\"500\"} 1\n";
            assertThat(server.awaitMetrics(counted)).contains(counted);

            // The server is unharmed: the same slot answers the next request.
            assertThat(chat(server, "Once upon a time", false).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void anErrorMidStreamEndsTheStreamWithAnErrorEvent() throws Exception {
        try (TestServer server = TestServer.start(TestFiles.stories260K(), 1, 64, 1 << 20, Duration.ofSeconds(600),
                ServeInternalErrorTest::failingDetokenizer)) {
            // The headers and the role chunk are out before the first token fails: the error can only be an event,
            // and the chunked body still ends properly (the client reads it to the end without an exception).
            HttpResponse<String> r = chat(server, "Once upon a time", true);
            assertThat(r.statusCode()).isEqualTo(200);
            List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
            assertThat(events).hasSize(2);
            assertThat(HttpIo.JSON.readTree(events.get(0)).at("/choices/0/delta/role").asText()).isEqualTo("assistant");
            JsonNode error = HttpIo.JSON.readTree(events.get(1)).get("error");
            assertThat(error.get("message").asText()).isEqualTo("internal server error: InternalError: detokenizer exploded");
            assertThat(error.get("type").asText()).isEqualTo("server_error");

            // Without a stream the same failure is a 500; both count as failed requests, and the slot is free.
            HttpResponse<String> plain = chat(server, "Once upon a time", false);
            assertThat(plain.statusCode()).isEqualTo(500);
            assertThat(TestServer.json(plain).at("/error/message").asText()).isEqualTo("internal server error: InternalError: detokenizer exploded");
            String counted = "panllama_requests_total{endpoint=\"" + CHAT + "\",status=\"500\"} 2\n";
            assertThat(server.awaitMetrics(counted)).contains(counted);
            assertThat(server.metric("panllama_requests_processing")).isZero();
        }
    }

    private static HttpResponse<String> chat(TestServer server, String content, boolean stream) throws Exception {
        return server.post(CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": \"" + content + "\"}], \"max_tokens\": 4, \"stream\": " + stream + "}");
    }
}
