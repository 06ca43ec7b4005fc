package dev.panllama.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** The chat-template test data under src/test/resources (see scripts/chat-template-oracle.py). */
final class TemplateFixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TemplateFixtures() {}

    static JsonNode load(String name) {
        try (InputStream in = TemplateFixtures.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing test resource " + name);
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<ChatMessage> messages(JsonNode array) {
        List<ChatMessage> out = new ArrayList<>();
        for (JsonNode m : array) out.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        return out;
    }

    /** The conversation of llama.cpp's test-chat-template (system, then three user and two assistant turns). */
    static List<ChatMessage> llamaCppConversation() {
        return messages(load("llama-cpp-chat-templates.json").get("conversation"));
    }

    /** A template of either cases file by name: source, BOS and EOS text. */
    record Source(String name, String source, String bos, String eos) {}

    static Source template(String name) {
        for (JsonNode t : load("chat-template-cases.json").get("templates")) {
            if (t.get("name").asText().equals(name)) {
                return new Source(name, t.get("source").asText(), t.get("bos_token").asText(), t.get("eos_token").asText());
            }
        }
        for (JsonNode t : load("llama-cpp-chat-templates.json").get("cases")) {
            if (t.get("name").asText().equals(name)) {
                return new Source(name, t.get("template").asText(), t.get("bos_token").asText(), t.get("eos_token").asText());
            }
        }
        throw new IllegalArgumentException("no template named " + name);
    }

    static List<ChatMessage> conversation(String name) {
        if (name.equals("llama.cpp")) return llamaCppConversation();
        return messages(load("chat-template-cases.json").get("conversations").get(name));
    }
}
