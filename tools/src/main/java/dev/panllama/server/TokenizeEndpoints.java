package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panllama.tokenizer.Tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * llama-server's {@code POST /tokenize} ({@code content}, {@code add_special} default false,
 * {@code parse_special} default true, {@code with_pieces} default false) and {@code POST /detokenize}
 * ({@code tokens}). A piece that is not whole UTF-8 is given as its bytes, as llama-server does.
 */
final class TokenizeEndpoints {
    private final Tokenizer tokenizer;

    TokenizeEndpoints(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    ObjectNode tokenize(JsonNode body) {
        requireObject(body);
        JsonNode content = body.get("content");
        if (content == null || !content.isTextual()) {
            throw ApiException.invalid("'content' must be a string" + (content == null ? "" : ", not " + RequestFields.describe(content)), "content");
        }
        int[] tokens = tokenizer.encode(content.asText(), flag(body, "add_special", false), flag(body, "parse_special", true));
        boolean pieces = flag(body, "with_pieces", false);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("tokens");
        for (int t : tokens) {
            if (!pieces) {
                list.add(t);
                continue;
            }
            ObjectNode o = list.addObject();
            o.put("id", t);
            byte[] piece = tokenizer.tokenToPiece(t, true);
            String text = utf8(piece);
            if (text != null) o.put("piece", text);
            else {
                ArrayNode bytes = o.putArray("piece");
                for (byte b : piece) bytes.add(b & 0xff);
            }
        }
        return out;
    }

    ObjectNode detokenize(JsonNode body) {
        requireObject(body);
        JsonNode tokens = body.get("tokens");
        if (tokens == null || !tokens.isArray()) {
            throw ApiException.invalid("'tokens' must be an array of token ids" + (tokens == null ? "" : ", not " + RequestFields.describe(tokens)), "tokens");
        }
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = tokens.get(i);
            if (!t.canConvertToInt() || !t.isIntegralNumber() || t.asInt() < 0 || t.asInt() >= tokenizer.vocabSize()) {
                throw ApiException.invalid("'tokens[" + i + "]' must be a token id in [0, " + tokenizer.vocabSize() + "), not "
                        + RequestFields.describe(t), "tokens");
            }
            ids[i] = t.asInt();
        }
        return JsonNodeFactory.instance.objectNode().put("content", tokenizer.decode(ids, false, false));
    }

    private static void requireObject(JsonNode body) {
        if (!body.isObject()) throw ApiException.invalid("the request body must be a JSON object", null);
    }

    private static boolean flag(JsonNode body, String name, boolean dflt) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) return dflt;
        if (!n.isBoolean()) throw ApiException.invalid("'" + name + "' must be a boolean, not " + RequestFields.describe(n), name);
        return n.asBoolean();
    }

    /** The bytes as a string when they are whole UTF-8, else null. */
    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
