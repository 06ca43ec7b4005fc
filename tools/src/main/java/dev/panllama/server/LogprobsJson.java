package dev.panllama.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panllama.sampling.TokenLogprob;
import dev.panllama.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Log probabilities in the three shapes clients expect: OpenAI chat's {@code logprobs.content}
 * ({@code token, logprob, bytes, top_logprobs}), the legacy completions' {@code tokens /
 * token_logprobs / top_logprobs / text_offset}, and llama.cpp's {@code completion_probabilities}
 * ({@code id, token, logprob, bytes, top_logprobs}). A token's text is its piece as UTF-8 (a piece that
 * is part of a character shows as U+FFFD; {@code bytes} has its exact bytes).
 */
final class LogprobsJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final Tokenizer tokenizer;

    LogprobsJson(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    private ObjectNode entry(int token, float logprob, boolean withId) {
        ObjectNode o = F.objectNode();
        byte[] piece = tokenizer.tokenToPiece(token, false);
        if (withId) o.put("id", token);
        o.put("token", new String(piece, StandardCharsets.UTF_8));
        o.put("logprob", logprob);
        ArrayNode bytes = o.putArray("bytes");
        for (byte b : piece) bytes.add(b & 0xFF);
        return o;
    }

    /** OpenAI chat's {@code {"content": [...]}}. */
    ObjectNode chat(List<TokenLogprob> tokens) {
        ObjectNode root = F.objectNode();
        ArrayNode content = root.putArray("content");
        for (TokenLogprob t : tokens) content.add(withTop(t, false));
        return root;
    }

    /** llama.cpp's {@code completion_probabilities} entries. */
    ArrayNode llamaCpp(List<TokenLogprob> tokens) {
        ArrayNode out = F.arrayNode();
        for (TokenLogprob t : tokens) out.add(withTop(t, true));
        return out;
    }

    private ObjectNode withTop(TokenLogprob t, boolean withId) {
        ObjectNode o = entry(t.token(), t.logprob(), withId);
        ArrayNode top = o.putArray("top_logprobs");
        for (int i = 0; i < t.topTokens().length; i++) top.add(entry(t.topTokens()[i], t.topLogprobs()[i], withId));
        return o;
    }

    /** The legacy completions shape; {@code offset} is where the first token's text starts in the whole completion. */
    ObjectNode completions(List<TokenLogprob> tokens, int offset) {
        ObjectNode root = F.objectNode();
        ArrayNode texts = root.putArray("tokens"), lps = root.putArray("token_logprobs"), tops = root.putArray("top_logprobs"),
                offsets = root.putArray("text_offset");
        int at = offset;
        for (TokenLogprob t : tokens) {
            String text = new String(tokenizer.tokenToPiece(t.token(), false), StandardCharsets.UTF_8);
            texts.add(text);
            lps.add(t.logprob());
            ObjectNode top = tops.addObject();
            for (int i = 0; i < t.topTokens().length; i++) {
                top.put(new String(tokenizer.tokenToPiece(t.topTokens()[i], false), StandardCharsets.UTF_8), t.topLogprobs()[i]);
            }
            offsets.add(at);
            at += text.length();
        }
        return root;
    }
}
