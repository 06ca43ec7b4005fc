package dev.panllama.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panllama.generate.Completion;
import dev.panllama.chat.ToolCall;
import dev.panllama.chat.ToolCalls;
import dev.panllama.sampling.TokenLogprob;

import java.util.List;

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
    private final LogprobsJson logprobs;
    private final boolean withLogprobs;
    /** Per prompt, the text length streamed so far (the legacy logprobs' text_offset). */
    private final java.util.Map<Integer, Integer> streamed = new java.util.concurrent.ConcurrentHashMap<>();

    private final ToolCalls calls;

    /**
     * @param withLogprobs whether the request asked for log probabilities
     * @param calls        how to parse a chat reply for tool calls, or null
     */
    ApiResponses(boolean chat, String id, long created, String model, LogprobsJson logprobs, boolean withLogprobs, ToolCalls calls) {
        this.calls = calls;
        this.chat = chat;
        this.id = id;
        this.created = created;
        this.model = model;
        this.logprobs = logprobs;
        this.withLogprobs = withLogprobs;
    }

    private void putLogprobs(ObjectNode choice, List<TokenLogprob> tokens, int offset) {
        if (!withLogprobs) {
            choice.putNull("logprobs");
            return;
        }
        choice.set("logprobs", chat ? logprobs.chat(tokens) : logprobs.completions(tokens, offset));
    }

    /** The whole answer of a request that did not stream: a choice per prompt, their usage summed. */
    ObjectNode response(List<Completion.Result> results) {
        ObjectNode root = header(chat ? "chat.completion" : "text_completion");
        ArrayNode choices = root.putArray("choices");
        for (int i = 0; i < results.size(); i++) {
            Completion.Result r = results.get(i);
            ObjectNode choice = choices.addObject();
            choice.put("index", i);
            String finish = r.finishReason().apiName();
            if (chat) {
                ObjectNode message = choice.putObject("message");
                message.put("role", "assistant");
                if (reply(message, r)) finish = "tool_calls";
            } else {
                choice.put("text", r.text());
            }
            putLogprobs(choice, r.logprobs(), 0);
            choice.put("finish_reason", finish);
        }
        root.set("usage", usage(results));
        if (results.size() == 1) root.set("timings", timings(results.getFirst()));
        return root;
    }

    /**
     * Puts a chat reply into {@code message}: its text (as {@code reasoning_content} what a model wrote
     * between think tags, llama.cpp's deepseek reasoning format), and its tool calls when there are tools.
     * Returns whether there were calls.
     */
    private boolean reply(ObjectNode message, Completion.Result r) {
        String content = r.text();
        List<ToolCall> toolCalls = List.of();
        if (calls != null) {
            ToolCalls.Parsed p = calls.parse(content);
            content = p.content();
            toolCalls = p.calls();
        }
        String reasoning = null;
        if (content != null) {
            String[] split = ToolCalls.splitReasoning(content);
            reasoning = split[0];
            content = split[1];
        }
        if (content != null) message.put("content", content);
        else message.putNull("content");
        if (reasoning != null) message.put("reasoning_content", reasoning);
        if (toolCalls.isEmpty()) return false;
        ArrayNode list = message.putArray("tool_calls");
        for (int i = 0; i < toolCalls.size(); i++) {
            ToolCall c = toolCalls.get(i);
            ObjectNode o = list.addObject();
            o.put("index", i);
            o.put("id", c.id());
            o.put("type", "function");
            o.putObject("function").put("name", c.name()).put("arguments", c.arguments());
        }
        return true;
    }

    /** With tools, prompt {@code index}'s whole parsed reply as one delta (text, reasoning, tool calls). */
    ObjectNode parsedChunk(int index, Completion.Result r) {
        ObjectNode root = header("chat.completion.chunk");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", index);
        reply(choice.putObject("delta"), r);
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
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

    /** A chunk of prompt {@code index}'s generated text, with its tokens' log probabilities when asked for. */
    ObjectNode textChunk(int index, String text, List<TokenLogprob> tokens) {
        ObjectNode root = chunk(index, text, null);
        if (withLogprobs) {
            int offset = streamed.merge(index, text.length(), Integer::sum) - text.length();
            putLogprobs((ObjectNode) root.get("choices").get(0), tokens, offset);
        }
        return root;
    }

    /** Prompt {@code index}'s last chunk: no text, the finish reason ({@code tool_calls} when the reply called tools). */
    ObjectNode finalChunk(int index, Completion.Result r) {
        boolean called = calls != null && !calls.parse(r.text()).calls().isEmpty();
        ObjectNode root = chunk(index, null, called ? "tool_calls" : r.finishReason().apiName());
        root.set("timings", timings(r));
        return root;
    }

    /** With {@code stream_options.include_usage}: a chunk with no choices and the token counts, after the last. */
    ObjectNode usageChunk(List<Completion.Result> results) {
        ObjectNode root = header(chat ? "chat.completion.chunk" : "text_completion");
        root.putArray("choices");
        root.set("usage", usage(results));
        return root;
    }

    private ObjectNode chunk(int index, String text, String finishReason) {
        ObjectNode root = header(chat ? "chat.completion.chunk" : "text_completion");
        ArrayNode choices = root.putArray("choices");
        ObjectNode choice = choices.addObject();
        choice.put("index", index);
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (text != null) delta.put("content", text);
        } else {
            choice.put("text", text != null ? text : "");
        }
        choice.putNull("logprobs");
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

    static ObjectNode usage(List<Completion.Result> results) {
        int prompt = 0, completion = 0, cached = 0;
        for (Completion.Result r : results) {
            prompt += r.promptTokens();
            completion += r.completionTokens();
            cached += r.cachedTokens();
        }
        ObjectNode u = F.objectNode();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        u.putObject("prompt_tokens_details").put("cached_tokens", cached);
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
