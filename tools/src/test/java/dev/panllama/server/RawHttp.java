package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 by hand over a socket, for requests no well-behaved client sends: thousands of headers, a body
 * shorter than its Content-Length. Reads one response (Content-Length bodies only) and whether the server
 * then closed the connection.
 */
final class RawHttp {
    /** One response: its status line exactly as sent, headers (names lower-cased), body, and what followed. */
    record Response(String statusLine, Map<String, String> headers, String body, boolean closedAfter) {
        JsonNode json() throws IOException {
            return HttpIo.JSON.readTree(body);
        }
    }

    private RawHttp() {}

    /** Sends {@code request} as is and reads the response, waiting at most {@code timeout} for each read. */
    static Response exchange(int port, String request, Duration timeout) throws IOException {
        return exchange(port, request, timeout, Duration.ZERO);
    }

    /** As {@link #exchange(int, String, Duration)}, then waits up to {@code closeWait} for the server to close the connection. */
    static Response exchange(int port, String request, Duration timeout, Duration closeWait) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) timeout.toMillis());
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            String status = line(in);
            Map<String, String> headers = new LinkedHashMap<>();
            for (String h; !(h = line(in)).isEmpty(); ) {
                int colon = h.indexOf(':');
                headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
            }
            byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
            boolean closed = false;
            if (closeWait.isPositive()) {
                socket.setSoTimeout((int) closeWait.toMillis());
                try {
                    closed = in.read() == -1;
                } catch (SocketTimeoutException e) {
                    // still open
                }
            }
            return new Response(status, headers, new String(body, StandardCharsets.UTF_8), closed);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c == -1) throw new IOException("the connection closed after \"" + line.toString(StandardCharsets.ISO_8859_1) + "\"");
            if (c != '\r') line.write(c);
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }
}
