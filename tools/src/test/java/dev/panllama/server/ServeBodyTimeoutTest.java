package dev.panllama.server;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A request body that stops coming (fewer bytes than its Content-Length, or a chunked body left unfinished):
 * after serve's --timeout without data, 400 naming what arrived, and the connection closed. The server is
 * not left waiting: the handler and the thread that read the body finish (the handler is counted in /metrics
 * only then; the reader leaves the thread dump), and the single slot serves the next requests.
 */
class ServeBodyTimeoutTest {
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration CLIENT_WAIT = Duration.ofSeconds(20);
    private static final String PARTIAL = "{\"prompt\": \"Once up";
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestFiles.stories260K(), 1, 64, 1 << 20, READ_TIMEOUT, UnaryOperator.identity());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aBodyShorterThanItsContentLengthIs400AfterTheTimeout() throws Exception {
        double before = count400();
        long t0 = System.nanoTime();
        RawHttp.Response r = RawHttp.exchange(port(), post("Content-Length: 100") + PARTIAL, CLIENT_WAIT, CLIENT_WAIT);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(r.statusLine()).isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(r.json().at("/error/message").asText()).isEqualTo("request body: expected 100 bytes, got 19 before the read timeout (1 s)");
        assertThat(r.json().at("/error/type").asText()).isEqualTo("invalid_request_error");
        assertThat(r.headers().get("connection")).isEqualTo("close");
        assertThat(r.closedAfter()).as("the server closed the connection").isTrue();
        assertThat(seconds).isBetween(0.9, 10.0);
        assertServerServesOn(before + 1);
    }

    @Test
    void anUnfinishedChunkedBodyIs400AfterTheTimeout() throws Exception {
        double before = count400();
        String chunk = Integer.toHexString(PARTIAL.length()) + "\r\n" + PARTIAL + "\r\n";
        RawHttp.Response r = RawHttp.exchange(port(), post("Transfer-Encoding: chunked") + chunk, CLIENT_WAIT, CLIENT_WAIT);
        assertThat(r.statusLine()).isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(r.json().at("/error/message").asText()).isEqualTo("request body: got 19 bytes of a chunked body before the read timeout (1 s)");
        assertThat(r.closedAfter()).isTrue();
        assertServerServesOn(before + 1);
    }

    /** Several stalled clients at once, on one slot: each gets its 400, then the slot and server are free. */
    @Test
    void stalledClientsDoNotHoldTheServer() throws Exception {
        double before = count400();
        List<Future<RawHttp.Response>> stalled = new ArrayList<>();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 4; i++) stalled.add(clients.submit(() -> RawHttp.exchange(port(), post("Content-Length: 50"), CLIENT_WAIT, CLIENT_WAIT)));
            for (var f : stalled) {
                RawHttp.Response r = f.get();
                assertThat(r.statusLine()).isEqualTo("HTTP/1.1 400 Bad Request");
                assertThat(r.json().at("/error/message").asText()).isEqualTo("request body: expected 50 bytes, got 0 before the read timeout (1 s)");
            }
        }
        assertServerServesOn(before + 4);
    }

    /** The timeout is for a pause in the body, not for all of it: a slow body that keeps coming is read. */
    @Test
    void aSlowBodyThatKeepsComingIsRead() throws Exception {
        byte[] body = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 2}".getBytes(StandardCharsets.US_ASCII);
        try (Socket socket = new Socket("127.0.0.1", port())) {
            socket.setSoTimeout((int) CLIENT_WAIT.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(post("Content-Length: " + body.length).getBytes(StandardCharsets.US_ASCII));
            long t0 = System.nanoTime();
            for (int i = 0; i < body.length; i += 8) {       // 6 pieces, 400 ms apart: 2 s in all, twice the timeout
                out.write(body, i, Math.min(8, body.length - i));
                out.flush();
                if (i + 8 < body.length) Thread.sleep(400);
            }
            assertThat((System.nanoTime() - t0) / 1e9).isGreaterThan(READ_TIMEOUT.toSeconds() * 1.5);
            InputStream in = socket.getInputStream();
            String status = new String(in.readNBytes(15), StandardCharsets.US_ASCII);
            assertThat(status).isEqualTo("HTTP/1.1 200 OK");
        }
    }

    /**
     * The handlers of the timed-out requests have finished: /metrics counts a request only once its handler
     * has closed the exchange (which waits for the body's reader to stop), a moment after the client has its
     * answer. And the slot answers the next request.
     */
    private static void assertServerServesOn(double expected400s) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (count400() < expected400s && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(count400()).isEqualTo(expected400s);
        assertThat(liveBodyReaders()).as("threads still reading a request body").isZero();
        assertThat(server.get("/health").statusCode()).isEqualTo(200);
        var completion = server.post("/v1/completions", "{\"prompt\": \"Once upon a time\", \"max_tokens\": 2}");
        assertThat(completion.statusCode()).isEqualTo(200);
        assertThat(server.metric("panllama_requests_processing")).isZero();
    }

    /** Threads named as RequestBody names its readers, in a thread dump (which, unlike getAllStackTraces, has virtual threads). */
    private static int liveBodyReaders() throws Exception {
        Path dump = Files.createTempDirectory("threads").resolve("dump.json");
        try {
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).dumpThreads(dump.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
            return Files.readString(dump).split("panllama-request-body", -1).length - 1;
        } finally {
            Files.deleteIfExists(dump);
            Files.deleteIfExists(dump.getParent());
        }
    }

    private static double count400() throws Exception {
        String line = "panllama_requests_total{endpoint=\"/v1/completions\",status=\"400\"} ";
        return server.get("/metrics").body().lines().filter(l -> l.startsWith(line))
                .mapToDouble(l -> Double.parseDouble(l.substring(line.length()))).sum();
    }

    private static String post(String lengthHeader) {
        return "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + lengthHeader + "\r\n\r\n";
    }

    private static int port() {
        return server.server.address().getPort();
    }
}
