package dev.panllama.examples;

import dev.panllama.generate.CachedSession;
import dev.panllama.chat.ChatFormat;
import dev.panllama.chat.ChatMessage;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class ChatTest {
    /**
     * Two turns on the bundled model: each reply is what the whole conversation evaluated from scratch
     * gives (greedy), and the second turn took the first from the cache.
     */
    @Test
    void twoTurnsWithTheTemplateAndTheCache() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Chat.run(TestFiles.stories260K(), "You tell stories.", List.of("Once upon a time", "What did Lily do?"), 12,
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out).startsWith("(chat template: chatml (built in))\nuser: Once upon a time\nassistant: ");

        Matcher replies = Pattern.compile("assistant: (.*)\n").matcher(out);
        assertThat(replies.find()).isTrue();
        String first = replies.group(1);
        assertThat(replies.find()).isTrue();
        String second = replies.group(1);
        try (Model model = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(2).withContextLength(1024))) {
            ChatFormat format = ChatFormat.forModel(model.metadata(), model.tokenizer());
            List<ChatMessage> history = List.of(ChatMessage.system("You tell stories."), ChatMessage.user("Once upon a time"));
            assertThat(first).isEqualTo(fromScratch(model, format, history));
            assertThat(second).isEqualTo(fromScratch(model, format, List.of(history.get(0), history.get(1), ChatMessage.assistant(first),
                    ChatMessage.user("What did Lily do?"))));
        }
        Matcher counts = Pattern.compile("\\((\\d+) prompt tokens, (\\d+) of them from the cache; 12 generated\\)").matcher(out);
        assertThat(counts.find()).isTrue();
        assertThat(counts.group(2)).isEqualTo("0");
        int firstPrompt = Integer.parseInt(counts.group(1));
        assertThat(counts.find()).isTrue();
        assertThat(Integer.parseInt(counts.group(2))).isGreaterThanOrEqualTo(firstPrompt);
    }

    private static String fromScratch(Model model, ChatFormat format, List<ChatMessage> messages) {
        try (CachedSession s = new CachedSession(model.newSession())) {
            return Completion.run(s, model.tokenizer(), format.encode(messages, true), CompletionSettings.of(12, SamplerParams.GREEDY),
                    t -> true).text();
        }
    }
}
