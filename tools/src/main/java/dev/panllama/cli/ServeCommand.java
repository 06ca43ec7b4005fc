package dev.panllama.cli;

import dev.panllama.chat.ChatFormat;
import dev.panllama.model.Model;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.server.OpenAiServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code panllama serve}: an OpenAI-compatible HTTP server (like llama-server). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve the model over HTTP with OpenAI's API: POST /v1/chat/completions and /v1/completions",
                "(\"stream\": true for server-sent events), GET /v1/models, /health and /metrics (Prometheus).",
                "--parallel N slots answer N requests at once, each with -c / N tokens of context; more wait for a slot.",
                "Sampling flags set the defaults of fields a request leaves out. Stops on Ctrl-C."})
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ModelOptionsMixin model;

    @Mixin
    SamplingOptionsMixin sampling;

    @Mixin
    ChatTemplateOptionsMixin chatTemplate;

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

    @Option(names = "--no-warmup", description = "Listen at once, without running the model first (the first requests then pay for the JIT)")
    boolean noWarmup;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require 'Authorization: Bearer KEY' on every endpoint but /health")
    String apiKey;

    @Option(names = "--api-key-file", paramLabel = "FILE", description = "Read the API key from the first line of FILE")
    Path apiKeyFile;

    @Option(names = {"-to", "--timeout"}, paramLabel = "N", defaultValue = "600",
            description = "Seconds a request body may pause before the request gets 400 (llama-server's read timeout; default: ${DEFAULT-VALUE})")
    int timeout;

    @Spec
    CommandSpec spec;

    /** How long the warm-up runs the model: long enough for C2 to compile the kernels of both paths. */
    private static final long WARMUP_MILLIS = 1500;

    /** Released when the server should stop: Ctrl-C, or the command's thread interrupted (tests). */
    private final CountDownLatch stop = new CountDownLatch(1);
    /** Released once the server has stopped, so that Ctrl-C's hook lets the JVM exit only after that. */
    private final CountDownLatch stopped = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (parallel < 1) throw new IllegalArgumentException("--parallel must be at least 1, not " + parallel);
        if (timeout < 1) throw new IllegalArgumentException("-to " + timeout + ": must be at least 1 second");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port " + port + ": must be in [0, 65535]");
        if (maxRequestBytes <= 0) throw new IllegalArgumentException("--max-request-bytes " + maxRequestBytes + ": must be positive");
        String key = apiKey();
        SamplerParams defaults = sampling.params();
        chatTemplate.override();
        try (Model m = model.load(err)) {
            ChatFormat format = chatTemplate.format(m);
            int total = model.contextSize > 0 ? model.contextSize : m.defaultContextLength();
            int perSlot = total / parallel;
            if (perSlot < 2) throw new IllegalArgumentException("-c " + total + " over " + parallel + " slots leaves " + perSlot + " tokens per slot");
            String id = alias != null ? alias : fileName(model.modelPath());
            OpenAiServer.Settings settings = new OpenAiServer.Settings(host, port, parallel, perSlot, id, maxRequestBytes,
                    Duration.ofSeconds(timeout), defaults, key);
            if (!noWarmup) {
                err.printf("panllama serve: warming up (--no-warmup to skip) ... ");
                err.flush();
                err.printf("%d ms%n", Warmup.run(m, WARMUP_MILLIS));
                err.flush();
            }
            Thread hook = new Thread(() -> {
                stop.countDown();
                try {
                    stopped.await(35, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "panllama-serve-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try (OpenAiServer server = OpenAiServer.start(m, format, settings)) {
                var at = server.address();
                err.printf("panllama serve: listening on http://%s:%d | model %s | %d slot%s of %d tokens | chat template %s | %s%n",
                        at.getHostString(), at.getPort(), id, parallel, parallel == 1 ? "" : "s", perSlot,
                        format.template().description(), m.description());
                if (key == null && !at.getAddress().isLoopbackAddress()) {
                    err.println("panllama serve: warning: listening on " + at.getHostString()
                            + " without --api-key: anyone who can reach it can use the model");
                }
                err.flush();
                try {
                    stop.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                err.println("panllama serve: stopping");
                err.flush();
            } finally {
                stopped.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // already shutting down: the hook is what woke us
                }
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
