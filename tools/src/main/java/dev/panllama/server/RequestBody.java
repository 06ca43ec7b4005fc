package dev.panllama.server;

import com.sun.net.httpserver.HttpExchange;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads a request body within the size limit and the read timeout (llama-server's {@code --timeout}): a body
 * that pauses longer than that (a Content-Length larger than what the client sends, a chunked body left
 * unfinished) is refused with 400, and the connection closed.
 *
 * <p>The JDK's request stream blocks with no timeout of its own, so the body is read on a virtual thread
 * of its own while the handler waits for it, as long as bytes keep coming. On a timeout the 400 is sent
 * from here, because of an ordering the JDK imposes: the answer must be written before the reader is
 * stopped (interrupting a thread blocked on the socket closes the connection), and the reader must be
 * stopped before the response stream is closed (closing it drains the rest of the request body, under the
 * lock the blocked reader holds).
 */
final class RequestBody {
    /** How long a stopped reader may take to let go; it is interrupted out of a blocking read, so at once. */
    private static final long READER_EXIT_MILLIS = 5_000;

    /** What the reader has received so far, and when it last received anything. */
    private static final class Progress {
        volatile long bytes;
        volatile long lastReadNanos = System.nanoTime();
    }

    private RequestBody() {}

    /**
     * The whole body. 413 past {@code limit} bytes (by Content-Length or as read); 400 after {@code timeout}
     * without a byte (the answer already sent, the connection closing); IOException when the client went away.
     */
    static byte[] read(HttpExchange ex, long limit, Duration timeout) throws IOException {
        long declared = declaredLength(ex, limit);
        InputStream in = ex.getRequestBody();
        Progress progress = new Progress();
        FutureTask<byte[]> reading = new FutureTask<>(() -> readAll(in, limit, progress));
        Thread reader = Thread.ofVirtual().name("panllama-request-body").start(reading);
        long timeoutNanos = timeout.toNanos();
        try {
            while (true) {
                long wait = progress.lastReadNanos + timeoutNanos - System.nanoTime();
                try {
                    // When the time is up, a last look without waiting: the body may have just been completed.
                    return reading.get(Math.max(wait, 0), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    if (progress.lastReadNanos + timeoutNanos - System.nanoTime() <= 0) break;
                }
            }
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } catch (InterruptedException e) {
            // The server is stopping: stop the reader too (which closes the connection) and say so.
            stop(reader);
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("the server is shutting down");
        }
        String got = declared >= 0 ? "expected " + declared + " bytes, got " + progress.bytes
                : "got " + progress.bytes + " bytes of a chunked body";
        throw timedOut(ex, reader, "request body: " + got + " before the read timeout (" + seconds(timeout) + ")");
    }

    /** The Content-Length, -1 for a chunked body; 413 when it is over the limit, 400 when it is not a number. */
    private static long declaredLength(HttpExchange ex, long limit) {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared == null) return -1;
        long length;
        try {
            length = Long.parseLong(declared.trim());
        } catch (NumberFormatException e) {
            throw ApiException.invalid("bad Content-Length: " + declared, null);
        }
        if (length > limit) throw ApiException.tooLarge(limit);
        return length;
    }

    private static byte[] readAll(InputStream in, long limit, Progress progress) throws IOException {
        // The stream is left to the exchange to close: closing it here, short of its end (413), would drain the
        // rest of the body with no timeout.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] buf = new byte[16384];
        for (int n; (n = in.read(buf)) > 0; ) {
            if (bytes.size() + n > limit) throw ApiException.tooLarge(limit);
            bytes.write(buf, 0, n);
            progress.bytes = bytes.size();
            progress.lastReadNanos = System.nanoTime();
        }
        return bytes.toByteArray();
    }

    /** Answers 400 (Connection: close), stops the reader between writing and closing the response, and returns the error. */
    private static ApiException timedOut(HttpExchange ex, Thread reader, String message) {
        ApiException error = ApiException.invalid(message, null);
        ex.getResponseHeaders().set("Connection", "close");
        try {
            HttpIo.sendJson(ex, 400, error.body(), () -> stop(reader));
        } catch (IOException e) {
            // The client is gone as well: nothing to tell it.
        } finally {
            stop(reader);
        }
        return error;
    }

    /** Interrupts the reader out of its blocking read (the JDK then closes the connection) and waits for it to end. */
    private static void stop(Thread reader) {
        reader.interrupt();
        try {
            reader.join(READER_EXIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static RuntimeException rethrow(Throwable cause) throws IOException {
        switch (cause) {
            case IOException e -> throw e;
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new IllegalStateException("reading the request body failed", cause);
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
    }
}
