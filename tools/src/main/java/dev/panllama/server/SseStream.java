package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A server-sent-event response as OpenAI streams it: one {@code data: JSON} event per chunk, then
 * {@code data: [DONE]}. Each event is flushed at once. A write that fails means the client went away:
 * the stream remembers it and every later send returns false, which cancels the generation.
 */
final class SseStream implements AutoCloseable {
    private final OutputStream out;
    private boolean broken;

    private SseStream(OutputStream out) {
        this.out = out;
    }

    /** Sends the 200 headers (chunked) and opens the event stream. */
    static SseStream open(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        return new SseStream(ex.getResponseBody());
    }

    /** Sends one event; false when the client is gone. Events of several prompts' threads do not interleave. */
    synchronized boolean send(JsonNode data) {
        try {
            return write("data: " + HttpIo.JSON.writeValueAsString(data) + "\n\n");
        } catch (IOException e) {
            broken = true;
            return false;
        }
    }

    synchronized boolean done() {
        return write("data: [DONE]\n\n");
    }

    synchronized boolean broken() { return broken; }

    private synchronized boolean write(String event) {
        if (broken) return false;
        try {
            out.write(event.getBytes(StandardCharsets.UTF_8));
            out.flush();
            return true;
        } catch (IOException e) {
            broken = true;
            return false;
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            broken = true;        // the client left before the end of the stream: nothing to tell it
        }
    }
}
