package dev.panllama.server;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.sun.net.httpserver.HttpExchange;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Reading a JSON request body within the size limit, and writing JSON and text responses. */
final class HttpIo {
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private HttpIo() {}

    /** The body as JSON; 413 past {@code limit} bytes (by Content-Length or as read), 400 when it is not JSON ({@link JsonBody}). */
    static JsonNode readJson(HttpExchange ex, long limit) throws IOException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            long length;
            try {
                length = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                throw ApiException.invalid("bad Content-Length: " + declared, null);
            }
            if (length > limit) throw ApiException.tooLarge(limit);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (InputStream in = ex.getRequestBody()) {
            byte[] buf = new byte[16384];
            for (int n; (n = in.read(buf)) > 0; ) {
                if (bytes.size() + n > limit) throw ApiException.tooLarge(limit);
                bytes.write(buf, 0, n);
            }
        }
        if (bytes.size() == 0) throw ApiException.invalid("the request has no body: send a JSON object", null);
        return JsonBody.parse(bytes.toByteArray());
    }

    static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, "application/json; charset=utf-8", JSON.writeValueAsBytes(body));
    }

    static void sendText(HttpExchange ex, int status, String contentType, String text) throws IOException {
        send(ex, status, contentType, text.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }
}
