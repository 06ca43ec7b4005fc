package dev.panllama.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panllama.chat.Completion;

/**
 * The JSON of OpenAI's responses and stream chunks, for one request: {@code chat.completion} /
 * {@code chat.completion.chunk} for chat, {@code text_completion} for plain completions. Final
 * responses also carry llama.cpp's {@code timings}.
 */
final class ApiResponses {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final boolean chat;
    private final String id;
    private final long created;
    private final String model;

    ApiResponses(boolean chat, String id, long created, String model) {
        this.chat = chat;
        this.id = id;
        this.created = created;
        this.model = model;
    }

    /** The whole answer of a request that did not stream. */
    ObjectNode response(Completion.Result r) {
        ObjectNode root = header(chat ? "chat.completion" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            message.put("content", r.text());
        } else {
            choice.put("text", r.text());
            choice.putNull("logprobs");
        }
        choice.put("finish_reason", r.finishReason().apiName());
        root.set("usage", usage(r));
        root.set("timings", timings(r));
        return root;
    }

    /** The first chat chunk: the assistant's role, no content yet (as OpenAI streams). */
    ObjectNode roleChunk() {
        ObjectNode root = header("chat.completion.chunk");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        delta.put("role", "assistant");
        delta.put("content", "");
        choice.putNull("finish_reason");
        return root;
    }

    /** A chunk of generated text. */
    ObjectNode textChunk(String text) {
        return chunk(text, null);
    }

    /** The last chunk: no text, the finish reason. */
    ObjectNode finalChunk(Completion.Result r) {
        ObjectNode root = chunk(null, r.finishReason().apiName());
        root.set("timings", timings(r));
        return root;
    }

    /** With {@code stream_options.include_usage}: a chunk with no choices and the token counts, after the last. */
    ObjectNode usageChunk(Completion.Result r) {
        ObjectNode root = header(chat ? "chat.completion.chunk" : "text_completion");
        root.putArray("choices");
        root.set("usage", usage(r));
        return root;
    }

    private ObjectNode chunk(String text, String finishReason) {
        ObjectNode root = header(chat ? "chat.completion.chunk" : "text_completion");
        ArrayNode choices = root.putArray("choices");
        ObjectNode choice = choices.addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (text != null) delta.put("content", text);
        } else {
            choice.put("text", text != null ? text : "");
            choice.putNull("logprobs");
        }
        if (finishReason != null) choice.put("finish_reason", finishReason);
        else choice.putNull("finish_reason");
        return root;
    }

    private ObjectNode header(String object) {
        ObjectNode root = F.objectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        return root;
    }

    static ObjectNode usage(Completion.Result r) {
        ObjectNode u = F.objectNode();
        u.put("prompt_tokens", r.promptTokens());
        u.put("completion_tokens", r.completionTokens());
        u.put("total_tokens", r.promptTokens() + r.completionTokens());
        u.putObject("prompt_tokens_details").put("cached_tokens", r.cachedTokens());
        return u;
    }

    /** llama.cpp's timings: tokens evaluated and generated, their milliseconds and rates. */
    static ObjectNode timings(Completion.Result r) {
        ObjectNode t = F.objectNode();
        int evaluated = r.promptTokens() - r.cachedTokens();
        double promptMs = r.promptNanos() / 1e6, predictedMs = r.generateNanos() / 1e6;
        t.put("cache_n", r.cachedTokens());
        t.put("prompt_n", evaluated);
        t.put("prompt_ms", promptMs);
        t.put("prompt_per_second", evaluated / Math.max(1e-9, promptMs / 1e3));
        t.put("predicted_n", r.completionTokens());
        t.put("predicted_ms", predictedMs);
        t.put("predicted_per_second", r.generateTokensPerSecond());
        return t;
    }
}
