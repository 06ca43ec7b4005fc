package dev.panllama.server;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** A client that goes away mid-stream: its generation stops and its slot serves the next request. */
class ServeDisconnectTest {
    private static final int CONTEXT = 1024;

    @Test
    void aDisconnectMidStreamCancelsTheGenerationAndFreesTheSlot() throws Exception {
        try (TestServer server = TestServer.start(TestFiles.stories260K(), 1, CONTEXT, 1 << 20)) {
            // A long generation (to the end of the slot's context), read for three events, then dropped.
            String body = "{\"prompt\": \"Once upon a time\", \"max_tokens\": " + CONTEXT + ", \"ignore_eos\": true, \"stream\": true}";
            try (Socket socket = new Socket("127.0.0.1", server.server.address().getPort())) {
                OutputStream out = socket.getOutputStream();
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                        + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(bytes);
                out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
                int events = 0;
                for (String line; events < 3 && (line = in.readLine()) != null; ) if (line.startsWith("data: ")) events++;
                assertThat(events).isEqualTo(3);
            }

            // The slot is freed well before the generation could have finished.
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (server.metric("panllama_requests_processing") > 0 && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(server.metric("panllama_requests_processing")).isZero();
            assertThat(server.metric("panllama_requests_cancelled_total")).isEqualTo(1);
            assertThat(server.metric("panllama_tokens_predicted_total")).isLessThan(CONTEXT / 2.0);

            // And it answers the next request.
            var next = server.post("/v1/completions", "{\"prompt\": \"Once upon a time\", \"max_tokens\": 4, \"temperature\": 0}");
            assertThat(next.statusCode()).isEqualTo(200);
            assertThat(TestServer.json(next).at("/usage/completion_tokens").asInt()).isEqualTo(4);
        }
    }
}
