package dev.panllama.server;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.ReturnBehavior;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.agent.tool.ToolSpecifications;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.Result;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real agent framework's tool calling against {@code panllama serve}: LangChain4j's AiServices with a
 * {@code @Tool} method, on stories260K, with tool_choice required (the grammar makes the tiny model emit
 * a valid call of the tool's schema). The tool runs with the arguments the model chose; then the call
 * and its result go back to the server, as LangChain4j sends them, and get an answer.
 */
class ServeLangChain4jToolsTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestFiles.stories260K(), 1, 2048, s -> s);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static final class Dice {
        final List<Integer> rolled = new ArrayList<>();

        // IMMEDIATE: AiServices hands the result back instead of asking the model again, which with
        // tool_choice required (kept for every request by AiServices) would call the tool forever.
        @Tool(value = "Rolls a die with the given number of sides", returnBehavior = ReturnBehavior.IMMEDIATE)
        int roll(@P("how many sides the die has") int sides) {
            rolled.add(sides);
            return Math.max(1, Math.min(sides, 4));
        }
    }

    interface Assistant {
        Result<String> chat(String message);
    }

    private static OpenAiChatModel model(ToolChoice choice) {
        return OpenAiChatModel.builder().baseUrl(server.url("/v1")).apiKey("unused").modelName("stories260K")
                .temperature(1.0).seed(5).maxTokens(400).timeout(Duration.ofSeconds(120))
                .defaultRequestParameters(ChatRequestParameters.builder().toolChoice(choice).build()).build();
    }

    @Test
    void aToolMethodRunsWithTheModelsArgumentsAndItsResultGoesBack() {
        Dice dice = new Dice();
        Assistant assistant = AiServices.builder(Assistant.class).chatModel(model(ToolChoice.REQUIRED)).tools(dice).build();
        Result<String> result = assistant.chat("Roll a die for me.");
        assertThat(dice.rolled).hasSize(1);
        assertThat(result.toolExecutions()).hasSize(1);
        ToolExecutionRequest request = result.toolExecutions().getFirst().request();
        assertThat(request.name()).isEqualTo("roll");
        assertThat(request.id()).startsWith("call_");

        // The call and its result, back to the server as LangChain4j writes them; the model answers in text.
        List<ToolSpecification> specs = ToolSpecifications.toolSpecificationsFrom(dice);
        ChatResponse answer = model(ToolChoice.AUTO).chat(ChatRequest.builder()
                .messages(UserMessage.from("Roll a die for me."), AiMessage.from(request),
                        ToolExecutionResultMessage.from(request, result.toolExecutions().getFirst().result()))
                .toolSpecifications(specs).build());
        assertThat(answer.aiMessage().hasToolExecutionRequests() || answer.aiMessage().text() != null).isTrue();
    }
}
