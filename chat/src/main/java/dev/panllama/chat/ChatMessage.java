package dev.panllama.chat;

import java.util.List;
import java.util.Objects;

/**
 * One message of a conversation, as chat templates see it: a role ({@code system}, {@code user},
 * {@code assistant}, {@code tool}, or whatever else a template knows) and its text; an assistant's
 * message may carry tool calls, and a tool's message names the call it answers.
 */
public record ChatMessage(String role, String content, List<ToolCall> toolCalls, String toolCallId) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (role.isBlank()) throw new IllegalArgumentException("a chat message needs a role");
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public ChatMessage(String role, String content) {
        this(role, content, List.of(), null);
    }

    public static ChatMessage system(String content) { return new ChatMessage("system", content); }

    public static ChatMessage user(String content) { return new ChatMessage("user", content); }

    public static ChatMessage assistant(String content) { return new ChatMessage("assistant", content); }
}
