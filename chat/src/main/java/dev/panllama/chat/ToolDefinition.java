package dev.panllama.chat;

import com.fasterxml.jackson.databind.JsonNode;

/** A function the model may call (OpenAI's {@code tools[].function}): its name, what it does, its parameters' JSON schema. */
public record ToolDefinition(String name, String description, JsonNode parameters) {}
