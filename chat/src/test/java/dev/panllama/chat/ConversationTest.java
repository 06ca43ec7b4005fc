package dev.panllama.chat;

import dev.panllama.generate.CachedSession;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Multi-turn chat on stories260K (no template in the file: ChatML). */
class ConversationTest {
    private static final CompletionSettings GREEDY_24 = CompletionSettings.of(24, SamplerParams.GREEDY);

    @Test
    void theSecondTurnEvaluatesOnlyWhatIsNewAndAnswersAsAFreshSessionWould() throws Exception {
        try (Model model = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(2).withContextLength(512));
             Conversation chat = Conversation.start(model)) {
            chat.system("You tell stories.");
            Completion.Result first = chat.send("Once upon a time", GREEDY_24, t -> true);
            int cachedAfterFirst = chat.cachedTokens();
            assertThat(cachedAfterFirst).isEqualTo(first.promptTokens() + first.completionTokens() - 1);

            Completion.Result second = chat.send("Tell me about Lily.", GREEDY_24, t -> true);
            // Everything up to where the re-rendered history leaves the generated tokens came from the cache:
            // at least the whole first prompt.
            assertThat(second.cachedTokens()).isGreaterThanOrEqualTo(first.promptTokens());
            assertThat(second.promptTokens() - second.cachedTokens()).isLessThan(second.promptTokens() / 2);

            assertThat(chat.messages()).extracting(ChatMessage::role).containsExactly("system", "user", "assistant", "user", "assistant");
            assertThat(chat.messages().get(2).content()).isEqualTo(first.text());

            // The same conversation evaluated from scratch gives the same greedy reply.
            List<ChatMessage> history = chat.messages().subList(0, 4);
            try (CachedSession fresh = new CachedSession(model.newSession())) {
                Completion.Result scratch = Completion.run(fresh, model.tokenizer(), chat.format().encode(history, true), GREEDY_24, t -> true);
                assertThat(scratch.cachedTokens()).isZero();
                assertThat(scratch.text()).isEqualTo(second.text());
            }
        }
    }

    @Test
    void aConversationThatOutgrowsTheContextSaysSoAndKeepsItsHistory() throws Exception {
        try (Model model = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(1).withContextLength(64));
             Conversation chat = Conversation.start(model)) {
            chat.send("Hi", CompletionSettings.of(4, SamplerParams.GREEDY), t -> true);
            assertThatThrownBy(() -> chat.send("Once upon a time there was a very long story about a dog and a cat", GREEDY_24, t -> true))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no longer fits in the context of 64 tokens");
            assertThat(chat.messages()).hasSize(2);
        }
    }
}
