package dev.panllama.chat;

import dev.panllama.gguf.MappedGguf;
import dev.panllama.testing.TestFiles;
import dev.panllama.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Choosing the template from a GGUF file, and tokenizing the rendered chat as llama.cpp does. */
class ChatFormatTest {
    private static final List<ChatMessage> CHAT = List.of(ChatMessage.user("Hi there"), ChatMessage.assistant("Hello!"),
            ChatMessage.user("Tell me a story."));

    /** phi-3's template from the file, rendered with Jinja: the same text as llama.cpp's phi3 format, which Jinja's BOS aside. */
    @Test
    void phi3TemplateFromTheFile() throws IOException {
        Path file = TestFiles.requireShared("testdata/llama.cpp-vocab/ggml-vocab-phi-3.gguf");
        try (MappedGguf gguf = MappedGguf.open(file)) {
            Tokenizer tok = Tokenizer.fromMetadata(gguf.metadata());
            ChatFormat format = ChatFormat.forModel(gguf.metadata(), tok);
            assertThat(format.template()).isInstanceOf(JinjaTemplate.class);
            assertThat(format.template().description()).isEqualTo("jinja (from the model)");
            String text = format.render(CHAT, true);
            assertThat(text).isEqualTo("<s>" + BuiltinTemplate.PHI_3.render(CHAT, true));

            // The template's "<s>" is dropped: the tokenizer adds BOS itself, once. <|user|> etc. are single special tokens.
            int[] tokens = format.encode(CHAT, true);
            assertThat(tokens[0]).isEqualTo(tok.bos());
            assertThat(tokens[1]).isNotEqualTo(tok.bos());
            assertThat(tok.tokenText(tokens[1])).isEqualTo("<|user|>");
            assertThat(tokens).contains(tok.encode("<|assistant|>", false, true)[0]);

            // Without Jinja, llama.cpp recognises the source as its phi3 format.
            assertThat(ChatFormat.forModel(gguf.metadata(), tok, null, false).template()).isEqualTo(BuiltinTemplate.PHI_3);
        }
    }

    /** dbrx's template (no BOS in it, a default system prompt, ChatML markers) from the file. */
    @Test
    void dbrxTemplateFromTheFile() throws IOException {
        Path file = TestFiles.requireShared("testdata/llama.cpp-vocab-pr7132/ggml-vocab-dbrx.gguf");
        try (MappedGguf gguf = MappedGguf.open(file)) {
            Tokenizer tok = Tokenizer.fromMetadata(gguf.metadata());
            ChatFormat format = ChatFormat.forModel(gguf.metadata(), tok);
            List<ChatMessage> withSystem = List.of(ChatMessage.system("You are terse."), ChatMessage.user("Hi"));
            assertThat(format.render(withSystem, true)).isEqualTo(BuiltinTemplate.CHATML.render(withSystem, true));
            assertThat(format.render(List.of(ChatMessage.user("Hi")), true)).startsWith("<|im_start|>system\nYou are DBRX, created by Databricks.");
            assertThat(ChatFormat.forModel(gguf.metadata(), tok, null, false).template()).isEqualTo(BuiltinTemplate.CHATML);
            int[] tokens = format.encode(withSystem, true);
            assertThat(tok.tokenText(tokens[0])).isEqualTo("<|im_start|>");
        }
    }

    /** stories260K has no template: ChatML, as llama.cpp falls back to. A name or a Jinja source replaces the model's. */
    @Test
    void fallbackAndOverrides() throws IOException {
        try (MappedGguf gguf = MappedGguf.open(TestFiles.stories260K())) {
            Tokenizer tok = Tokenizer.fromMetadata(gguf.metadata());
            assertThat(ChatFormat.forModel(gguf.metadata(), tok).template()).isEqualTo(BuiltinTemplate.CHATML);
            assertThat(ChatFormat.forModel(gguf.metadata(), tok, "llama3", true).template()).isEqualTo(BuiltinTemplate.LLAMA_3);
            ChatFormat custom = ChatFormat.forModel(gguf.metadata(), tok, "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}", true);
            assertThat(custom.render(CHAT, true)).isEqualTo("user: Hi there\nassistant: Hello!\nuser: Tell me a story.\n");
            assertThat(custom.template().description()).isEqualTo("jinja (from --chat-template)");
            assertThatThrownBy(() -> ChatFormat.forModel(gguf.metadata(), tok, "llama-3", true))
                    .isInstanceOf(ChatTemplateException.class)
                    .hasMessageStartingWith("unknown chat template 'llama-3' (built-in formats: chatml, llama2,");
            assertThatThrownBy(() -> ChatFormat.forModel(gguf.metadata(), tok, "{{ messages }}", false))
                    .isInstanceOf(ChatTemplateException.class)
                    .hasMessageContaining("none of the built-in formats (chatml, llama2,");
        }
    }

    @Test
    void brokenTemplatesFailWithTheirLine() {
        JinjaTemplate broken = new JinjaTemplate("{{ bos_token }}\n{{ messages[0].content }}\n{% if %}", "<s>", "</s>", "a test");
        assertThatThrownBy(() -> broken.render(CHAT, true))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageStartingWith("the chat template from a test failed at line 3:");
    }
}
