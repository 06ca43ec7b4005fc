package dev.panllama.chat;

/** A call of a tool, as OpenAI's API carries it: an id, the function's name, its arguments as JSON text. */
public record ToolCall(String id, String name, String arguments) {}
