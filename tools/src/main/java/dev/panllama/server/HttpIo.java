package dev.panllama.server;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Reading a JSON request body (within the size limit and read timeout), and writing JSON and text responses. */
final class HttpIo {
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private HttpIo() {}

    /**
     * The body as JSON: 413 past {@code limit} bytes, 400 after {@code timeout} without a byte of it (see
     * {@link RequestBody}), 400 when it is empty or not JSON (see {@link JsonBody}).
     */
    static JsonNode readJson(HttpExchange ex, long limit, Duration timeout) throws IOException {
        byte[] body = RequestBody.read(ex, limit, timeout);
        if (body.length == 0) throw ApiException.invalid("the request has no body: send a JSON object", null);
        return JsonBody.parse(body);
    }

    static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        sendJson(ex, status, body, () -> {});
    }

    /** As {@link #sendJson(HttpExchange, int, JsonNode)}, running {@code beforeClose} once the body is written and flushed. */
    static void sendJson(HttpExchange ex, int status, JsonNode body, Runnable beforeClose) throws IOException {
        send(ex, status, "application/json; charset=utf-8", JSON.writeValueAsBytes(body), beforeClose);
    }

    static void sendText(HttpExchange ex, int status, String contentType, String text) throws IOException {
        send(ex, status, contentType, text.getBytes(StandardCharsets.UTF_8), () -> {});
    }

    private static void send(HttpExchange ex, int status, String contentType, byte[] body, Runnable beforeClose) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
            out.flush();
            beforeClose.run();
        }
    }
}
