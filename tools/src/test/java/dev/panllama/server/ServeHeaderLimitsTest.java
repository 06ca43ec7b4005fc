package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Too many or too large request headers: 431 with OpenAI's error body, where the JDK's server alone would
 * reset the connection (past 200 headers or 380 KiB). The limits are {@link OpenAiServer#MAX_HEADERS}
 * header fields and {@link OpenAiServer#MAX_HEADER_BYTES} bytes of them.
 */
class ServeHeaderLimitsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(TestFiles.stories260K(), 1, 64, 1 << 20);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void tenThousandHeadersAre431() throws Exception {
        RawHttp.Response r = RawHttp.exchange(port(), get("/health", 9_999, 20), TIMEOUT);
        assertThat(r.statusLine()).startsWith("HTTP/1.1 431");
        assertError(r, "the request has 10000 header fields in 368870 bytes; the server accepts at most 100 fields and 65536 bytes");
        String counted = "panllama_requests_total{endpoint=\"/health\",status=\"431\"} 1\n";
        assertThat(server.awaitMetrics(counted)).contains(counted);
    }

    @Test
    void theLimitIsAHundredFields() throws Exception {
        assertThat(RawHttp.exchange(port(), get("/metrics", 99, 20), TIMEOUT).statusLine()).startsWith("HTTP/1.1 200");
        RawHttp.Response r = RawHttp.exchange(port(), get("/metrics", 100, 20), TIMEOUT);
        assertThat(r.statusLine()).startsWith("HTTP/1.1 431");
        assertError(r, "the request has 101 header fields in 3507 bytes; the server accepts at most 100 fields and 65536 bytes");
    }

    @Test
    void andSixtyFourKibibytes() throws Exception {
        RawHttp.Response r = RawHttp.exchange(port(), get("/v1/models", 1, 65_536), TIMEOUT);
        assertThat(r.statusLine()).startsWith("HTTP/1.1 431");
        assertError(r, "the request has 2 header fields in 65567 bytes; the server accepts at most 100 fields and 65536 bytes");
    }

    /** A GET with a Host header and {@code extra} headers {@code X-Filler-N: vvv...} of {@code valueLength} characters. */
    private static String get(String path, int extra, int valueLength) {
        StringBuilder sb = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        String value = "v".repeat(valueLength);
        for (int i = 0; i < extra; i++) sb.append("X-Filler-").append(i).append(": ").append(value).append("\r\n");
        return sb.append("\r\n").toString();
    }

    private static void assertError(RawHttp.Response r, String message) throws Exception {
        assertThat(r.headers().get("content-type")).startsWith("application/json");
        JsonNode error = r.json().get("error");
        assertThat(error.get("message").asText()).isEqualTo(message);
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("param").isNull()).isTrue();
    }

    private static int port() {
        return server.server.address().getPort();
    }
}
