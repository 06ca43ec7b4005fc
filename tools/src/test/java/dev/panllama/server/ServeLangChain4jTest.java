package dev.panllama.server;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import dev.panllama.generate.CachedSession;
import dev.panllama.chat.ChatMessage;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client no one here wrote: LangChain4j's OpenAI module against {@code panllama serve} on loopback,
 * greedy, blocking and streaming. What it receives must be exactly what the same conversation gives
 * through the Java API.
 */
class ServeLangChain4jTest {
    private static final int MAX_TOKENS = 16;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestFiles.stories260K(), 2, 512, 1 << 20);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** The reply and prompt size the Java API gives for a conversation, greedy, MAX_TOKENS tokens. */
    private static Completion.Result reference(List<ChatMessage> messages) {
        try (CachedSession s = new CachedSession(server.model.newSession(512))) {
            return Completion.run(s, server.model.tokenizer(), server.format.encode(messages, true),
                    CompletionSettings.of(MAX_TOKENS, SamplerParams.GREEDY), t -> true);
        }
    }

    @Test
    void blockingChat() {
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(server.url("/v1")).apiKey("unused").modelName("stories260K")
                .temperature(0.0).maxTokens(MAX_TOKENS).timeout(Duration.ofSeconds(60)).build();
        ChatResponse response = chat.chat(ChatRequest.builder()
                .messages(SystemMessage.from("You tell stories."), UserMessage.from("Once upon a time")).build());

        Completion.Result expected = reference(List.of(ChatMessage.system("You tell stories."), ChatMessage.user("Once upon a time")));
        assertThat(response.aiMessage().text()).isEqualTo(expected.text()).isNotEmpty();
        assertThat(response.tokenUsage().inputTokenCount()).isEqualTo(expected.promptTokens());
        assertThat(response.tokenUsage().outputTokenCount()).isEqualTo(MAX_TOKENS);
        assertThat(response.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(response.metadata().modelName()).isEqualTo("stories260K");

        // The next turn, with the reply in the history: the slot's cache already holds the first turn.
        ChatResponse second = chat.chat(ChatRequest.builder().messages(SystemMessage.from("You tell stories."),
                UserMessage.from("Once upon a time"), AiMessage.from(response.aiMessage().text()), UserMessage.from("And then?")).build());
        assertThat(second.aiMessage().text()).isEqualTo(reference(List.of(ChatMessage.system("You tell stories."),
                ChatMessage.user("Once upon a time"), ChatMessage.assistant(response.aiMessage().text()), ChatMessage.user("And then?"))).text());
    }

    @Test
    void streamingChat() throws Exception {
        OpenAiStreamingChatModel chat = OpenAiStreamingChatModel.builder().baseUrl(server.url("/v1")).apiKey("unused")
                .modelName("stories260K").temperature(0.0).maxTokens(MAX_TOKENS).timeout(Duration.ofSeconds(60)).build();
        StringBuilder partials = new StringBuilder();
        int[] partialCount = {0};
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        chat.chat("Tell me about a dog.", new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String text) {
                partials.append(text);
                partialCount[0]++;
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse response = done.get(120, TimeUnit.SECONDS);

        Completion.Result expected = reference(List.of(ChatMessage.user("Tell me about a dog.")));
        assertThat(partials.toString()).isEqualTo(expected.text()).isEqualTo(response.aiMessage().text());
        assertThat(partialCount[0]).isGreaterThan(1);
        assertThat(response.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(response.tokenUsage().outputTokenCount()).isEqualTo(MAX_TOKENS);
        assertThat(response.tokenUsage().inputTokenCount()).isEqualTo(expected.promptTokens());
    }
}
