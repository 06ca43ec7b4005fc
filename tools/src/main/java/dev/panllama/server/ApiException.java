package dev.panllama.server;

import dev.panllama.gguf.MappedFiles;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;

/**
 * A request the server refuses, answered with an HTTP status and OpenAI's error body:
 * {@code {"error": {"message": ..., "type": ..., "param": ..., "code": null}}}.
 */
final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    /** The headers a response with this status must carry (Allow for 405, WWW-Authenticate for 401), as name/value pairs. */
    private final String[] headers;

    ApiException(int status, String type, String message, String param, String... headers) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.headers = headers;
    }

    /** 400: the request is malformed or a field is wrong; {@code param} names the field (null when none). */
    static ApiException invalid(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param);
    }

    static ApiException notFound(String message) {
        return new ApiException(404, "not_found_error", message, null);
    }

    static ApiException methodNotAllowed(String method, String path, String allowed) {
        return new ApiException(405, "invalid_request_error", method + " is not allowed on " + path + " (use " + allowed + ")", null,
                "Allow", allowed);
    }

    static ApiException tooLarge(long limit) {
        return new ApiException(413, "invalid_request_error",
                "the request body is larger than " + limit + " bytes (the server's --max-request-bytes)", null);
    }

    static ApiException headersTooLarge(int fields, long bytes, int maxFields, int maxBytes) {
        return new ApiException(431, "invalid_request_error", "the request has " + fields + " header fields in " + bytes
                + " bytes; the server accepts at most " + maxFields + " fields and " + maxBytes + " bytes", null);
    }

    /**
     * 500: the server failed (a bug, or a JVM error such as OutOfMemoryError); the message names the throwable's
     * class and the first line of its message, enough to match it with the server's log. A failed read of the
     * mapped model says which file changed on disk.
     */
    static ApiException internal(Throwable t) {
        if (MappedFiles.isMappedReadFault(t)) return new ApiException(500, "server_error", MappedFiles.describeFault(), null);
        String message = t.getMessage() == null || t.getMessage().isBlank() ? "" : ": " + t.getMessage().strip().lines().findFirst().orElse("");
        return new ApiException(500, "server_error", "internal server error: " + t.getClass().getSimpleName() + message, null);
    }

    /** 401: the request lacks the server's API key (--api-key), or names another. */
    static ApiException unauthorized(boolean sent) {
        return new ApiException(401, "authentication_error", (sent ? "invalid API key" : "missing API key")
                + ": send the server's key as 'Authorization: Bearer KEY'", null, "WWW-Authenticate", "Bearer");
    }

    /** 501: a feature the server was not started with (llama-server's not_supported_error). */
    static ApiException notSupported(String message) {
        return new ApiException(501, "not_supported_error", message, null);
    }

    static ApiException unavailable(String message) {
        return new ApiException(503, "unavailable_error", message, null);
    }

    int status() { return status; }

    /** Sets the headers this status requires on the response. */
    void setHeaders(Headers response) {
        for (int i = 0; i < headers.length; i += 2) response.set(headers[i], headers[i + 1]);
    }

    ObjectNode body() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", getMessage());
        error.put("type", type);
        if (param != null) error.put("param", param);
        else error.putNull("param");
        error.putNull("code");
        return root;
    }
}
