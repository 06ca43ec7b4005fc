package dev.panllama.chat;

import java.util.List;

/**
 * Turns a conversation into the text a model was trained on: a model's own Jinja template
 * ({@link JinjaTemplate}) or one of llama.cpp's built-in formats ({@link BuiltinTemplate}).
 */
public interface ChatTemplate {
    /**
     * The prompt text for {@code messages}; with {@code addGenerationPrompt}, followed by what opens
     * the assistant's reply. May begin with the BOS token's text (see {@link ChatFormat}).
     *
     * @throws ChatTemplateException when the template fails or rejects the conversation
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** What this template is, for logs: e.g. {@code jinja (from the model)} or {@code chatml (built in)}. */
    String description();
}
