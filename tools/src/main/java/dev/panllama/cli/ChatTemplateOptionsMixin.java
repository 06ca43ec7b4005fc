package dev.panllama.cli;

import dev.panllama.chat.BuiltinTemplate;
import dev.panllama.chat.ChatFormat;
import dev.panllama.model.Model;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** llama.cpp's chat-template flags: which template formats the conversation. */
final class ChatTemplateOptionsMixin {
    @Option(names = "--chat-template", paramLabel = "NAME|JINJA",
            description = {"Chat template instead of the model's: a built-in format (chatml, llama2, llama3, phi3, gemma, ...)",
                    "or Jinja source. Default: the model's tokenizer.chat_template, else chatml"})
    String template;

    @Option(names = "--chat-template-file", paramLabel = "FILE", description = "Read the chat template (Jinja) from a file")
    Path templateFile;

    @Option(names = "--no-jinja", description = {"Do not render Jinja: use the built-in format the template's markers name,",
            "as llama.cpp does without --jinja"})
    boolean noJinja;

    ChatFormat format(Model model) throws IOException {
        if (template != null && templateFile != null) {
            throw new IllegalArgumentException("--chat-template and --chat-template-file: give one of them");
        }
        String override = templateFile != null ? Files.readString(templateFile, StandardCharsets.UTF_8) : template;
        if (override != null && override.isBlank()) {
            throw new IllegalArgumentException("the chat template is empty (built-in formats: " + BuiltinTemplate.names() + ")");
        }
        return ChatFormat.forModel(model.metadata(), model.tokenizer(), override, !noJinja);
    }
}
