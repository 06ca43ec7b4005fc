package dev.panllama.cli;

import dev.panllama.chat.BuiltinTemplate;
import dev.panllama.chat.ChatFormat;
import dev.panllama.model.Model;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** llama.cpp's chat-template flags: which template formats the conversation. */
final class ChatTemplateOptionsMixin {
    @Option(names = "--chat-template", paramLabel = "NAME|JINJA",
            description = {"Chat template instead of the model's: a built-in format (chatml, llama2, llama3, phi3, gemma, ...)",
                    "or Jinja source. Default: the model's tokenizer.chat_template, else chatml"})
    String template;

    @Option(names = "--chat-template-file", paramLabel = "FILE", description = "Read the chat template (Jinja) from a file")
    Path templateFile;

    @Option(names = "--jinja", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = {"Render the chat template with Jinja (default: on); --no-jinja uses the built-in format the",
                    "template's markers name, as llama.cpp does without --jinja"})
    boolean jinja;

    /** The template given instead of the model's, null for none; read once. */
    private String override;
    private boolean read;

    /**
     * Reads and checks the template options; commands call it before loading the model, so that a
     * bad --chat-template-file fails at once rather than after a long load.
     */
    String override() throws IOException {
        if (read) return override;
        if (template != null && templateFile != null) {
            throw new IllegalArgumentException("--chat-template and --chat-template-file: give one of them");
        }
        override = templateFile != null ? CliFiles.readText(templateFile) : template;
        if (override != null && override.isBlank()) {
            throw new IllegalArgumentException("the chat template is empty (built-in formats: " + BuiltinTemplate.names() + ")");
        }
        read = true;
        return override;
    }

    ChatFormat format(Model model) throws IOException {
        return ChatFormat.forModel(model.metadata(), model.tokenizer(), override(), jinja);
    }
}
