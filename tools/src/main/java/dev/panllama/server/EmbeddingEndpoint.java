package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panllama.model.Embeddings;
import dev.panllama.model.Embeddings.Pooling;
import dev.panllama.tokenizer.Tokenizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * {@code POST /v1/embeddings} (OpenAI's) and {@code /embedding} (llama.cpp's) with --embeddings: each
 * input's final hidden states, pooled by the server's --pooling and normalized ({@code embd_normalize},
 * Euclidean by default). An input runs in a slot, whose cache it leaves empty, taking turns with the
 * decode loop's passes on the model's lock.
 */
final class EmbeddingEndpoint {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final Tokenizer tokenizer;
    private final SlotPool slots;
    private final Pooling pooling;
    private final int dim;
    private final String modelId;

    EmbeddingEndpoint(Tokenizer tokenizer, SlotPool slots, Pooling pooling, int dim, String modelId) {
        this.tokenizer = tokenizer;
        this.slots = slots;
        this.pooling = pooling;
        this.dim = dim;
        this.modelId = modelId;
    }

    Pooling pooling() { return pooling; }

    /** OpenAI's form: {@code input} (a string, token ids, or a list of those), {@code encoding_format} float or base64. */
    ObjectNode openAi(JsonNode body) {
        RequestFields f = fields(body);
        if (pooling == Pooling.NONE) {
            throw ApiException.invalid("pooling 'none' gives a vector per token, which OpenAI's API cannot return: start the server with"
                    + " --pooling mean, cls or last, or use /embedding", null);
        }
        String encoding = f.string("encoding_format");
        if (encoding != null && !encoding.equals("float") && !encoding.equals("base64")) {
            throw ApiException.invalid("'encoding_format' must be float or base64, not '" + encoding + "'", "encoding_format");
        }
        f.unsupported("dimensions", "the embedding has the model's " + dim + " dimensions");
        int norm = (int) f.integer("embd_normalize", 2, -1, 1000);
        List<int[]> inputs = inputs(body.has("input") ? body.get("input") : body.get("content"), "input");
        ObjectNode root = F.objectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        int tokens = 0;
        for (int i = 0; i < inputs.size(); i++) {
            float[] v = embed(inputs.get(i), norm)[0];
            tokens += inputs.get(i).length;
            ObjectNode d = data.addObject();
            d.put("object", "embedding");
            d.put("index", i);
            if ("base64".equals(encoding)) d.put("embedding", base64(v));
            else putFloats(d.putArray("embedding"), v);
        }
        root.put("model", modelId);
        root.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
        return root;
    }

    /** llama.cpp's form: {@code content} (or {@code input}); a list of {@code {index, embedding: [[...], ...]}}. */
    ArrayNode llamaCpp(JsonNode body) {
        RequestFields f = fields(body);
        int norm = (int) f.integer("embd_normalize", 2, -1, 1000);
        List<int[]> inputs = inputs(body.has("content") ? body.get("content") : body.get("input"), "content");
        ArrayNode out = F.arrayNode();
        for (int i = 0; i < inputs.size(); i++) {
            ObjectNode o = out.addObject();
            o.put("index", i);
            ArrayNode rows = o.putArray("embedding");
            for (float[] v : embed(inputs.get(i), pooling == Pooling.NONE ? -1 : norm)) putFloats(rows.addArray(), v);
        }
        return out;
    }

    private static RequestFields fields(JsonNode body) {
        if (body == null || !body.isObject()) throw ApiException.invalid("the request body must be a JSON object", null);
        return new RequestFields(body);
    }

    /** A string, token ids, or a non-empty list of those; each checked against a slot's context. */
    private List<int[]> inputs(JsonNode input, String field) {
        if (input == null || input.isNull()) throw ApiException.invalid("'" + field + "' is required", field);
        List<JsonNode> items = new ArrayList<>();
        if (input.isTextual() || (input.isArray() && !input.isEmpty() && input.get(0).isIntegralNumber())) items.add(input);
        else if (input.isArray() && !input.isEmpty()) input.forEach(items::add);
        else throw ApiException.invalid("'" + field + "' must be a string, token ids, or a non-empty list of those", field);
        if (items.size() > CompletionRequest.MAX_PROMPTS) {
            throw ApiException.invalid("'" + field + "' lists " + items.size() + " inputs; at most " + CompletionRequest.MAX_PROMPTS, field);
        }
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            JsonNode it = items.get(i);
            String where = items.size() == 1 ? field : field + "[" + i + "]";
            int[] tokens;
            if (it.isTextual()) {
                tokens = tokenizer.encode(it.textValue(), true, true);
            } else if (it.isArray() && !it.isEmpty()) {
                tokens = new int[it.size()];
                for (int t = 0; t < tokens.length; t++) {
                    JsonNode id = it.get(t);
                    if (!id.isIntegralNumber() || id.longValue() < 0 || id.longValue() >= tokenizer.vocabSize()) {
                        throw ApiException.invalid("'" + where + "' holds " + id + ", not a token id of the vocabulary of " + tokenizer.vocabSize(), where);
                    }
                    tokens[t] = id.intValue();
                }
            } else {
                throw ApiException.invalid("'" + where + "' must be a string or a non-empty list of token ids", where);
            }
            if (tokens.length == 0) throw ApiException.invalid("'" + where + "' is empty (and the model adds no BOS token)", where);
            if (tokens.length > slots.contextPerSlot()) {
                throw ApiException.invalid("'" + where + "' is " + tokens.length + " tokens, more than a slot's context of " + slots.contextPerSlot(), where);
            }
            out.add(tokens);
        }
        return out;
    }

    private float[][] embed(int[] tokens, int norm) {
        SlotPool.Slot slot;
        try {
            slot = slots.acquire(new int[0]);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("the server is shutting down");
        }
        float[] hidden;
        try {
            slot.session.clear();
            try {
                hidden = slot.session.session().hiddenStates(tokens);
            } finally {
                slot.session.clear();     // the slot's cache holds no completion's tokens now
            }
        } finally {
            slots.release(slot);
        }
        float[][] vectors = Embeddings.pool(hidden, tokens.length, dim, pooling);
        for (float[] v : vectors) Embeddings.normalize(v, norm);
        return vectors;
    }

    private static void putFloats(ArrayNode a, float[] v) {
        for (float x : v) a.add(x);
    }

    /** OpenAI's base64 encoding: the float32 values, little-endian. */
    private static String base64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return Base64.getEncoder().encodeToString(b.array());
    }
}
