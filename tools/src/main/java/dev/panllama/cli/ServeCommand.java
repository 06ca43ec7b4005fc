package dev.panllama.cli;

import dev.panllama.chat.ChatFormat;
import dev.panllama.model.Embeddings;
import dev.panllama.model.Model;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.server.OpenAiServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code panllama serve}: an OpenAI-compatible HTTP server (like llama-server). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve the model over HTTP with OpenAI's and llama.cpp's APIs (like llama-server).",
                "--parallel N slots each hold one request's KV cache of -c / N tokens; every running request gets a token per pass of one decode loop (continuous batching).",
                "Sampling flags set the defaults of fields a request leaves out. Stops on Ctrl-C."})
final class ServeCommand extends ToolCommand {
    @Mixin
    ModelOptionsMixin model;

    @Mixin
    SamplingOptionsMixin sampling;

    @Mixin
    ChatTemplateOptionsMixin chatTemplate;

    @Mixin
    ContextShiftOptionsMixin contextShift;

    @Mixin
    GrammarOptionsMixin grammarOptions;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "Port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = {"-np", "--parallel"}, paramLabel = "N", defaultValue = "1", description = "Slots: requests served at once (default: ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = {"-a", "--alias"}, paramLabel = "NAME", description = "Model name in /v1/models and responses (default: the file name)")
    String alias;

    @Option(names = "--max-request-bytes", paramLabel = "N", defaultValue = "8388608",
            description = "Largest request body accepted; larger ones get 413 (default: ${DEFAULT-VALUE})")
    long maxRequestBytes;

    @Option(names = {"-cb", "--cont-batching"}, description = "Accepted as llama.cpp's: the server always batches the slots' tokens together")
    boolean contBatching;

    @Option(names = {"--metrics", "--slots"}, description = "Accepted as llama.cpp's: GET /metrics and GET /slots are always served")
    boolean endpoints;

    @Option(names = "--no-webui", description = "Accepted as llama.cpp's: panllama serves no web page, only the API")
    boolean noWebui;

    @Option(names = "--no-warmup", description = "Listen at once, without running the model first (the first requests then pay for the JIT)")
    boolean noWarmup;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require 'Authorization: Bearer KEY' on every endpoint but /health")
    String apiKey;

    @Option(names = "--api-key-file", paramLabel = "FILE", description = "Read the API key from the first line of FILE")
    Path apiKeyFile;

    @Option(names = {"-to", "--timeout"}, paramLabel = "N", defaultValue = "600",
            description = "Seconds a request body may pause before the request gets 400 (llama-server's read timeout; default: ${DEFAULT-VALUE})")
    int timeout;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "-1",
            description = "Tokens a request generates when it does not say; -1: until end of generation or a full slot (default: ${DEFAULT-VALUE})")
    int nPredict;

    @Option(names = "--threads-http", paramLabel = "N", defaultValue = "-1",
            description = "Threads answering HTTP requests; -1: one (virtual) thread per request (default: ${DEFAULT-VALUE})")
    int threadsHttp;

    @Option(names = {"--embeddings", "--embedding"}, description = "Serve POST /v1/embeddings and /embedding (the final hidden states, pooled)")
    boolean embeddings;

    @Option(names = "--pooling", paramLabel = "TYPE",
            description = "Pooling of --embeddings: none, mean, cls or last (default: the model's pooling_type, else mean)")
    String pooling;

    @Option(names = "--slot-save-path", paramLabel = "DIR", description = "Folder for POST /slots/{id}?action=save|restore (KV caches to disk and back)")
    Path slotSavePath;

    /** How long the warm-up runs the model: long enough for C2 to compile the kernels of both paths. */
    private static final long WARMUP_MILLIS = 1500;

    /** Released when the server should stop: Ctrl-C, or the command's thread interrupted (tests). */
    private final CountDownLatch stop = new CountDownLatch(1);
    /** Released once the server has stopped, so that Ctrl-C's hook lets the JVM exit only after that. */
    private final CountDownLatch stopped = new CountDownLatch(1);

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        if (parallel < 1) throw new IllegalArgumentException("--parallel must be at least 1, not " + parallel);
        if (timeout < 1) throw new IllegalArgumentException("-to " + timeout + ": must be at least 1 second");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port " + port + ": must be in [0, 65535]");
        if (maxRequestBytes <= 0) throw new IllegalArgumentException("--max-request-bytes " + maxRequestBytes + ": must be positive");
        if (nPredict < -1) throw new IllegalArgumentException("-n " + nPredict + ": must be -1 (no limit) or more");
        if (threadsHttp == 0 || threadsHttp < -1) throw new IllegalArgumentException("--threads-http " + threadsHttp + ": must be positive, or -1");
        if (pooling != null && !embeddings) throw new IllegalArgumentException("--pooling applies to --embeddings, which is not given");
        Embeddings.Pooling chosenPooling = pooling != null ? Embeddings.Pooling.parse(pooling) : null;
        if (slotSavePath != null && !Files.isDirectory(slotSavePath)) {
            throw new IllegalArgumentException("--slot-save-path " + slotSavePath + ": not a folder");
        }
        if (model.contextSize > 0 && model.contextSize / parallel < 2) {
            throw new IllegalArgumentException("-c " + model.contextSize + " over " + parallel + " slots leaves " + model.contextSize / parallel + " tokens per slot");
        }
        String key = apiKey();
        SamplerParams defaults = sampling.params();
        chatTemplate.override();
        String id = alias != null ? alias : fileName(model.modelPath());
        // Listening comes first, as llama-server does: while the model loads, /health answers 503 "Loading model".
        OpenAiServer.Settings base = new OpenAiServer.Settings(host, port, parallel, 0, id, maxRequestBytes, Duration.ofSeconds(timeout), defaults, key)
                .withDefaultMaxTokens(nPredict).withHttpThreads(threadsHttp).withSlotSavePath(slotSavePath)
                .withContextShift(contextShift.shift(false)).withGrammar(grammarOptions.grammar());
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await(35, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "panllama-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (OpenAiServer server = OpenAiServer.listen(base)) {
            var at = server.address();
            err.printf("panllama serve: listening on http://%s:%d (loading the model: /health says 503 until it is ready)%n", at.getHostString(), at.getPort());
            if (key == null && !at.getAddress().isLoopbackAddress()) {
                err.println("panllama serve: warning: listening on " + at.getHostString()
                        + " without --api-key: anyone who can reach it can use the model");
            }
            err.flush();
            try (Model m = model.load(err)) {
                ChatFormat format = chatTemplate.format(m);
                int total = model.contextSize > 0 ? model.contextSize : m.defaultContextLength();
                int perSlot = total / parallel;
                if (perSlot < 2) throw new IllegalArgumentException("-c " + total + " over " + parallel + " slots leaves " + perSlot + " tokens per slot");
                Embeddings.Pooling pool = !embeddings ? null : chosenPooling != null ? chosenPooling : Embeddings.Pooling.ofModel(m.metadata(), Embeddings.Pooling.MEAN);
                if (!noWarmup) {
                    err.printf("panllama serve: warming up (--no-warmup to skip) ... ");
                    err.flush();
                }
                long warm = server.ready(m, format, perSlot, pool, noWarmup ? 0 : WARMUP_MILLIS);
                if (!noWarmup) {
                    err.printf("%d ms%n", warm);
                    err.flush();
                }
                err.printf("panllama serve: ready on http://%s:%d | model %s | %d slot%s of %d tokens | chat template %s%s | %s%n",
                        at.getHostString(), at.getPort(), id, parallel, parallel == 1 ? "" : "s", perSlot,
                        format.template().description(), pool != null ? " | embeddings, " + pool.cliName() + " pooling" : "", m.description());
                err.flush();
                try {
                    stop.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                err.println("panllama serve: stopping");
                err.flush();
            }
        } finally {
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook is what woke us
            }
        }
        return 0;
    }

    /** --api-key or the first line of --api-key-file (not both), or null. */
    private String apiKey() throws IOException {
        if (apiKey != null && apiKeyFile != null) throw new IllegalArgumentException("--api-key and --api-key-file: give one of them");
        if (apiKeyFile == null) return apiKey;
        String first;
        try (var lines = Files.lines(apiKeyFile)) {
            first = lines.findFirst().orElse("").strip();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new IllegalArgumentException("--api-key-file " + apiKeyFile + ": cannot read it (" + e.getMessage() + ")");
        }
        if (first.isEmpty()) throw new IllegalArgumentException("--api-key-file " + apiKeyFile + ": the first line is empty");
        return first;
    }

    private static String fileName(Path p) {
        String name = p.getFileName().toString();
        return name.endsWith(".gguf") ? name.substring(0, name.length() - 5) : name;
    }
}
