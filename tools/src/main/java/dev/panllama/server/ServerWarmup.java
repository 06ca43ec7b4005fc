package dev.panllama.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The server's warm-up (llama.cpp warms up at load): real requests to itself over loopback before it
 * answers anyone, so that the first client does not pay for the JIT compiling the HTTP layer, the
 * request parsing, the tokenizer, the chat template, the decode loop and the kernels. Each round sends
 * at once a streamed completion of a 32-token prompt (the batched kernel path) and a chat completion
 * of a short message (generation's path), 16 tokens each, so that their tokens share decode passes;
 * rounds repeat for a bounded time, since C2 compiles a method only after it ran many times. While it
 * runs, /health says "Loading model" to everyone else; the requests carry a key only this run knows.
 */
final class ServerWarmup {
    /** The header whose value lets a warm-up request through while the server is loading. */
    static final String HEADER = "X-Panllama-Warmup";

    private ServerWarmup() {}

    /**
     * Returns the milliseconds spent; the slots' caches are emptied afterwards by the caller. The
     * completion's prompt is token ids, sized to fit a slot of {@code contextPerSlot}; the chat request
     * (the template and the tokenizer's text path) is sent when a slot holds 64 tokens or more.
     */
    static long run(InetSocketAddress bound, String key, String apiKey, long budgetMillis, int contextPerSlot, int vocab) throws IOException {
        long t0 = System.nanoTime();
        InetAddress host = bound.getAddress().isAnyLocalAddress() ? InetAddress.getLoopbackAddress() : bound.getAddress();
        String base = "http://" + (host.getHostAddress().contains(":") ? "[" + host.getHostAddress() + "]" : host.getHostAddress()) + ":" + bound.getPort();
        int tokens = Math.max(1, Math.min(16, contextPerSlot / 4));
        int promptLength = Math.max(1, Math.min(32, contextPerSlot - tokens - 1));
        StringBuilder prompt = new StringBuilder("[");
        for (int i = 0; i < promptLength; i++) prompt.append(i == 0 ? "" : ",").append((i * 7919 + 1) % vocab);
        prompt.append(']');
        List<String[]> requests = new java.util.ArrayList<>();
        requests.add(new String[]{"/v1/completions", "{\"prompt\": " + prompt + ", \"max_tokens\": " + tokens + ", \"seed\": 1,"
                + " \"ignore_eos\": true, \"stream\": true, \"stream_options\": {\"include_usage\": true}}"});
        if (contextPerSlot >= 64) {
            requests.add(new String[]{"/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hello!\"}], \"max_tokens\": 16,"
                    + " \"seed\": 1, \"ignore_eos\": true}"});
        }
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build()) {
            do {
                List<CompletableFuture<HttpResponse<String>>> sent = requests.stream().map(r -> {
                    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + r[0])).timeout(Duration.ofMinutes(10))
                            .header(HEADER, key).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(r[1]));
                    if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
                    return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
                }).toList();
                for (var f : sent) {
                    HttpResponse<String> r = f.join();
                    if (r.statusCode() != 200) throw new IOException("the warm-up request to " + r.uri().getPath() + " got " + r.statusCode() + ": " + r.body());
                }
            } while ((System.nanoTime() - t0) / 1_000_000 < budgetMillis);
        } catch (java.util.concurrent.CompletionException e) {
            throw new IOException("the warm-up could not reach the server at " + base + ": " + e.getCause().getMessage(), e.getCause());
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
