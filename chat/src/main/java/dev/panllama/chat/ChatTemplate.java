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

    /**
     * As {@link #render(List, boolean)}, with the tools the model may call, for templates that render
     * them (a Jinja template sees them as {@code tools}); others render the messages alone.
     */
    default String render(List<ChatMessage> messages, List<ToolDefinition> tools, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt);
    }

    /** The template's own text (a Jinja template's source), or empty for a built-in format. */
    default String source() { return ""; }

    /** What this template is, for logs: e.g. {@code jinja (from the model)} or {@code chatml (built in)}. */
    String description();
}
