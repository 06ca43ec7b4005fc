package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.panllama.chat.ChatFormat;
import dev.panllama.chat.ChatTemplateException;
import dev.panllama.model.ContextShift;
import dev.panllama.model.Embeddings;
import dev.panllama.model.Model;
import dev.panllama.sampling.Grammar;
import dev.panllama.sampling.SamplerParams;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * An OpenAI-compatible HTTP server over one model, on the JDK's {@code com.sun.net.httpserver}:
 * {@code POST /v1/chat/completions}, {@code POST /v1/completions} (each streaming or not),
 * {@code GET /v1/models}, {@code GET /health}, {@code GET /metrics}. Requests run on virtual threads;
 * each completion holds one of the {@link SlotPool slots} (its KV cache), and the {@link DecodeLoop} evaluates
 * all running completions together, a token of each per pass.
 */
public final class OpenAiServer implements AutoCloseable {
    /**
     * The most header fields, and bytes of them ({@code Name: value} and CRLF), that a request may have; past
     * either it gets 431. About what llama-server (cpp-httplib) takes; real clients send a dozen or two.
     */
    static final int MAX_HEADERS = 100;
    static final int MAX_HEADER_BYTES = 64 * 1024;

    static {
        // The JDK's server resets the connection, without a status, when a request has more than 200 header
        // fields or 380 KiB of them (sun.net.httpserver.maxReqHeaders / maxReqHeaderSize), before any handler
        // runs. Raised well past our limits, they let such a request reach handle(), which answers 431; only
        // past these (1 MiB of headers) is the connection still reset. ServerConfig reads them once, when the
        // first server is created: this runs before that. Values set on the command line are kept.
        setIfAbsent("sun.net.httpserver.maxReqHeaders", 32_768);
        setIfAbsent("sun.net.httpserver.maxReqHeaderSize", 1 << 20);
    }

    private static void setIfAbsent(String property, int value) {
        if (System.getProperty(property) == null) System.setProperty(property, Integer.toString(value));
    }

    private static final System.Logger LOG = System.getLogger(OpenAiServer.class.getName());
    private static final Set<String> ENDPOINTS = Set.of("/v1/chat/completions", "/chat/completions", "/v1/completions",
            "/completion", "/completions", "/v1/embeddings", "/embeddings", "/embedding", "/v1/models", "/models", "/tokenize", "/detokenize",
            "/apply-template", "/props", "/slots", "/health", "/metrics");

    /**
     * @param contextPerSlot  KV cache tokens of each slot (llama.cpp: -c divided by --parallel); 0 when given to {@link #ready} instead
     * @param modelId         the name /v1/models and every response give the model
     * @param maxRequestBytes the largest request body accepted (413 beyond)
     * @param readTimeout     how long a request body may pause before the request is refused (400): llama-server's
     *                        read timeout, {@code --timeout}
     * @param sampling        sampling for fields a request leaves out
     * @param apiKey          the key every request but {@code /health} must send as {@code Authorization: Bearer KEY}
     *                        (llama-server's --api-key), or null for none
     */
    public record Settings(String host, int port, int parallel, int contextPerSlot, String modelId, long maxRequestBytes,
                           Duration readTimeout, SamplerParams sampling, String apiKey, int defaultMaxTokens, int httpThreads,
                           Embeddings.Pooling pooling, Path slotSavePath, ContextShift contextShift, Grammar grammar) {
        public Settings(String host, int port, int parallel, int contextPerSlot, String modelId, long maxRequestBytes,
                        Duration readTimeout, SamplerParams sampling) {
            this(host, port, parallel, contextPerSlot, modelId, maxRequestBytes, readTimeout, sampling, null);
        }

        public Settings(String host, int port, int parallel, int contextPerSlot, String modelId, long maxRequestBytes,
                        Duration readTimeout, SamplerParams sampling, String apiKey) {
            this(host, port, parallel, contextPerSlot, modelId, maxRequestBytes, readTimeout, sampling, apiKey, -1, -1, null, null, ContextShift.DISABLED, null);
        }

        /** The most tokens a request generates when it does not say (-n; -1: until end of generation or a full slot). */
        public Settings withDefaultMaxTokens(int n) {
            return new Settings(host, port, parallel, contextPerSlot, modelId, maxRequestBytes, readTimeout, sampling, apiKey, n, httpThreads,
                    pooling, slotSavePath, contextShift, grammar);
        }

        /** Threads answering HTTP requests (--threads-http; -1: a virtual thread per request, no limit). */
        public Settings withHttpThreads(int n) {
            return new Settings(host, port, parallel, contextPerSlot, modelId, maxRequestBytes, readTimeout, sampling, apiKey, defaultMaxTokens, n,
                    pooling, slotSavePath, contextShift, grammar);
        }

        /** --embeddings with this pooling (null: no embedding endpoints). */
        public Settings withEmbeddings(Embeddings.Pooling p) {
            return new Settings(host, port, parallel, contextPerSlot, modelId, maxRequestBytes, readTimeout, sampling, apiKey, defaultMaxTokens,
                    httpThreads, p, slotSavePath, contextShift, grammar);
        }

        /** --slot-save-path: the folder slot files go to (null: save and restore are refused). */
        public Settings withSlotSavePath(Path folder) {
            return new Settings(host, port, parallel, contextPerSlot, modelId, maxRequestBytes, readTimeout, sampling, apiKey, defaultMaxTokens,
                    httpThreads, pooling, folder, contextShift, grammar);
        }

        /** --context-shift / --keep: what a slot does when its context fills during generation (a request's n_keep overrides --keep). */
        public Settings withContextShift(ContextShift shift) {
            return new Settings(host, port, parallel, contextPerSlot, modelId, maxRequestBytes, readTimeout, sampling, apiKey, defaultMaxTokens,
                    httpThreads, pooling, slotSavePath, shift, grammar);
        }

        /** --grammar / --json-schema: what a request's text must follow when it asks for no grammar, schema or tools of its own. */
        public Settings withGrammar(Grammar g) {
            return new Settings(host, port, parallel, contextPerSlot, modelId, maxRequestBytes, readTimeout, sampling, apiKey, defaultMaxTokens,
                    httpThreads, pooling, slotSavePath, contextShift, g);
        }

        public Settings {
            if (apiKey != null && (apiKey.isBlank() || apiKey.chars().anyMatch(ch -> ch < 0x21 || ch > 0x7e))) {
                throw new IllegalArgumentException("--api-key must be printable ASCII without spaces");
            }
            if (defaultMaxTokens < -1) throw new IllegalArgumentException("-n must be -1 (no limit) or more, not " + defaultMaxTokens);
            if (httpThreads == 0 || httpThreads < -1) throw new IllegalArgumentException("--threads-http must be positive or -1 (a thread per request), not " + httpThreads);
            if (readTimeout.isNegative() || readTimeout.isZero()) throw new IllegalArgumentException("--timeout must be positive, not " + readTimeout.toSeconds());
            if (parallel < 1) throw new IllegalArgumentException("--parallel must be at least 1, not " + parallel);
            if (contextPerSlot != 0 && contextPerSlot < 2) {         // 0: decided when the model is ready
                throw new IllegalArgumentException("each slot needs a context of at least 2 tokens, not " + contextPerSlot);
            }
            if (maxRequestBytes < 1) throw new IllegalArgumentException("the request size limit must be positive");
            if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in [0, 65535], not " + port);
        }
    }

    /** What answers requests once the model is loaded; null before. */
    private record Loaded(Model model, ChatFormat format, SlotPool slots, DecodeLoop loop, CompletionEndpoint completions,
                          TokenizeEndpoints tokenize, EmbeddingEndpoint embeddings, SlotFiles slotFiles) {}

    /**
     * What an endpoint tells the request log about the tokens of the request it is answering, by
     * exchange (HttpExchange's own attributes are its context's, shared by every request).
     */
    private static final Map<HttpExchange, String> TOKENS = new ConcurrentHashMap<>();

    static void logTokens(HttpExchange ex, String tokens) {
        TOKENS.put(ex, tokens);
    }

    private final Settings settings;
    private final ServerMetrics metrics = new ServerMetrics();
    private final HttpServer http;
    private final ExecutorService executor;
    private final long created = System.currentTimeMillis() / 1000;
    private volatile Loaded loaded;
    /** While the warm-up runs: what answers its requests (those carrying {@link #warmupKey}) and no one else's. */
    private volatile Loaded warming;
    private final String warmupKey = java.util.HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(16));
    private volatile boolean closing;

    private OpenAiServer(Settings settings) throws IOException {
        this.settings = settings;
        try {
            this.http = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 128);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + settings.host() + ":" + settings.port() + ": " + e.getMessage(), e);
        }
        // --threads-http bounds the requests answered at once (llama-server's pool); the rest queue for a thread.
        this.executor = settings.httpThreads() > 0 ? Executors.newFixedThreadPool(settings.httpThreads(), Thread.ofVirtual().factory())
                : Executors.newVirtualThreadPerTaskExecutor();
        http.createContext("/", this::handle);
        http.setExecutor(executor);
    }

    /**
     * Binds the address and starts answering before the model is there, as llama-server does while it
     * loads: /health says 503 "loading model", so do the other endpoints. {@link #ready} brings the model.
     */
    public static OpenAiServer listen(Settings settings) throws IOException {
        OpenAiServer server = new OpenAiServer(settings);
        server.http.start();
        return server;
    }

    /** Creates the slots and the decode loop over {@code model}, and starts answering with them. */
    public void ready(Model model, ChatFormat format) {
        ready(model, format, settings.contextPerSlot(), settings.pooling(), 0);
    }

    /**
     * As {@link #ready(Model, ChatFormat)}, with what needed the model to be decided: each slot's context
     * and the embeddings' pooling (null: no embeddings); first, for {@code warmupMillis} (0: none),
     * completions run through the server's own path while /health still says "Loading model".
     * Returns the milliseconds the warm-up took.
     */
    public long ready(Model model, ChatFormat format, int contextPerSlot, Embeddings.Pooling pooling, long warmupMillis) {
        if (loaded != null) throw new IllegalStateException("the server already has its model");
        if (contextPerSlot < 2) throw new IllegalArgumentException("each slot needs a context of at least 2 tokens, not " + contextPerSlot);
        SlotPool slots = new SlotPool(model, settings.parallel(), contextPerSlot);
        DecodeLoop loop;
        try {
            loop = new DecodeLoop(model, metrics, () -> closing);
        } catch (RuntimeException | Error e) {
            slots.close();
            throw e;
        }
        CompletionEndpoint completions = new CompletionEndpoint(format, slots, metrics, settings, loop);
        EmbeddingEndpoint embeddings = pooling == null ? null
                : new EmbeddingEndpoint(format.tokenizer(), slots, pooling, model.config().embeddingLength(), settings.modelId());
        Loaded l = new Loaded(model, format, slots, loop, completions, new TokenizeEndpoints(format.tokenizer()), embeddings,
                new SlotFiles(slots, settings.slotSavePath()));
        long warm = 0;
        if (warmupMillis > 0) {
            warming = l;
            boolean done = false;
            try {
                warm = ServerWarmup.run(address(), warmupKey, settings.apiKey(), warmupMillis, contextPerSlot, format.tokenizer().vocabSize());
                done = true;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                if (!done) {
                    warming = null;
                    loop.close();
                    slots.close();
                }
            }
            warming = null;
            slots.clearAll();
            metrics.reset();
        }
        loaded = l;
        return warm;
    }

    /** Listens and serves {@code model} at once. */
    public static OpenAiServer start(Model model, ChatFormat format, Settings settings) throws IOException {
        OpenAiServer server = listen(settings);
        try {
            server.ready(model, format);
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** The address bound (the actual port when 0 was asked for). */
    public InetSocketAddress address() { return http.getAddress(); }

    public Settings settings() { return settings; }

    private void handle(HttpExchange ex) {
        String path = ex.getRequestURI().getPath();
        long t0 = System.nanoTime();
        int status = 500;
        try {
            checkHeaders(ex.getRequestHeaders());
            if (!path.equals("/health")) checkApiKey(ex.getRequestHeaders());
            if (closing) throw ApiException.unavailable("the server is shutting down");
            Loaded l = loaded;
            if (l == null && warming != null && warmupKey.equals(ex.getRequestHeaders().getFirst(ServerWarmup.HEADER))) l = warming;
            if (l == null) throw ApiException.unavailable("Loading model");       // llama-server's words, /health included
            status = route(ex, path, l);
        } catch (ApiException e) {
            status = e.status();
            e.setHeaders(ex.getResponseHeaders());
            trySend(ex, status, e.body());
        } catch (IOException e) {
            status = 499;        // nginx's "client closed request": nothing more can be said to it
        } catch (Throwable t) {
            // Anything else is the server's failure, a JVM Error (OutOfMemoryError, StackOverflowError,
            // InternalError) included: left to the JDK's server, the client would get an empty reply with no
            // status. It gets a 500 instead (a stream that has begun already ended with an error event), and
            // the server goes on serving the other requests.
            status = 500;
            internalError(ex, path, t);
        } finally {
            ex.close();
            String endpoint = ENDPOINTS.contains(path) ? path : path.startsWith("/slots/") ? "/slots/{id}" : path.startsWith("/v1/models/") ? "/v1/models/{id}" : "other";
            metrics.request(endpoint, status);
            String tokens = TOKENS.remove(ex);
            boolean warmup = ex.getRequestHeaders().containsKey(ServerWarmup.HEADER);
            if (!warmup && LOG.isLoggable(System.Logger.Level.INFO)) {
                LOG.log(System.Logger.Level.INFO, String.format(java.util.Locale.ROOT, "%s %s %d%s %.0f ms", ex.getRequestMethod(),
                        endpoint, status, tokens != null ? " " + tokens : "", (System.nanoTime() - t0) / 1e6));
            }
        }
    }

    private static void internalError(HttpExchange ex, String path, Throwable t) {
        try {
            ApiException error = ApiException.internal(t);
            trySend(ex, 500, error.body());        // the client first: logging may fail as well
            StackTraceElement[] where = t.getStackTrace();
            LOG.log(System.Logger.Level.ERROR, ex.getRequestMethod() + " " + path + ": " + error.getMessage()
                    + (where.length > 0 ? " (at " + where[0] + ")" : ""), t);
        } catch (Throwable again) {
            // Out of memory still, most likely: the exchange is closed and counted all the same.
        }
    }

    private static void checkHeaders(Headers headers) {
        int fields = 0;
        long bytes = 0;
        for (var h : headers.entrySet()) {
            for (String value : h.getValue()) {
                fields++;
                bytes += h.getKey().length() + 2 + value.length() + 2;
            }
        }
        if (fields > MAX_HEADERS || bytes > MAX_HEADER_BYTES) {
            throw ApiException.headersTooLarge(fields, bytes, MAX_HEADERS, MAX_HEADER_BYTES);
        }
    }

    /**
     * With --api-key, the request must carry {@code Authorization: Bearer KEY}. The key is compared by
     * {@link MessageDigest#isEqual}, whose time does not depend on where the bytes differ.
     */
    private void checkApiKey(Headers headers) {
        String key = settings.apiKey();
        if (key == null) return;
        String auth = headers.getFirst("Authorization");
        String sent = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).strip() : null;
        if (sent == null || !MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8), key.getBytes(StandardCharsets.UTF_8))) {
            throw ApiException.unauthorized(auth != null);
        }
    }

    private int route(HttpExchange ex, String path, Loaded l) throws IOException {
        String method = ex.getRequestMethod();
        switch (path) {
            case "/v1/chat/completions", "/chat/completions" -> {
                requirePost(method, path);
                return l.completions().handle(ex, CompletionEndpoint.Api.CHAT);
            }
            case "/v1/completions" -> {
                requirePost(method, path);
                return l.completions().handle(ex, CompletionEndpoint.Api.COMPLETIONS);
            }
            case "/completion", "/completions" -> {       // llama.cpp's own, as llama-server names them
                requirePost(method, path);
                return l.completions().handle(ex, CompletionEndpoint.Api.LLAMA_CPP);
            }
            case "/v1/embeddings", "/embeddings", "/embedding" -> {
                requirePost(method, path);
                if (l.embeddings() == null) throw ApiException.notSupported("this server does not make embeddings: start it with --embeddings");
                JsonNode body = readJson(ex);
                HttpIo.sendJson(ex, 200, path.equals("/embedding") ? l.embeddings().llamaCpp(body) : l.embeddings().openAi(body));
                return 200;
            }
            case "/tokenize", "/detokenize" -> {
                requirePost(method, path);
                var body = readJson(ex);
                HttpIo.sendJson(ex, 200, path.equals("/tokenize") ? l.tokenize().tokenize(body) : l.tokenize().detokenize(body));
                return 200;
            }
            case "/apply-template" -> {
                requirePost(method, path);
                var req = CompletionRequest.chat(readJson(ex), settings.sampling(), settings.defaultMaxTokens(), settings.contextShift(),
                        l.format().tokenizer().vocabSize());
                String prompt;
                try {
                    prompt = l.format().render(req.messages(), true);
                } catch (ChatTemplateException e) {
                    throw ApiException.invalid(e.getMessage(), "messages");
                }
                HttpIo.sendJson(ex, 200, JsonNodeFactory.instance.objectNode().put("prompt", prompt));
                return 200;
            }
            case "/props" -> {
                requireGet(method, path);
                HttpIo.sendJson(ex, 200, props(l));
                return 200;
            }
            case "/slots" -> {
                requireGet(method, path);
                ArrayNode list = JsonNodeFactory.instance.arrayNode();
                for (SlotPool.SlotView v : l.slots().views()) {
                    list.addObject().put("id", v.id()).put("n_ctx", v.contextLength()).put("is_processing", v.processing())
                            .put("n_cached_tokens", v.cachedTokens());
                }
                HttpIo.sendJson(ex, 200, list);
                return 200;
            }
            case "/v1/models", "/models" -> {
                requireGet(method, path);
                HttpIo.sendJson(ex, 200, models(l));
                return 200;
            }
            case "/health" -> {
                requireGet(method, path);
                HttpIo.sendJson(ex, 200, JsonNodeFactory.instance.objectNode().put("status", "ok"));
                return 200;
            }
            case "/metrics" -> {
                requireGet(method, path);
                HttpIo.sendText(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.render(l.slots()));
                return 200;
            }
            default -> {
                if (path.startsWith("/v1/models/")) {      // models.retrieve
                    requireGet(method, path);
                    String id = path.substring("/v1/models/".length());
                    if (!id.equals(settings.modelId())) throw ApiException.notFound("no model '" + id + "' (this server has '" + settings.modelId() + "')");
                    HttpIo.sendJson(ex, 200, models(l).path("data").get(0));
                    return 200;
                }
                if (path.startsWith("/slots/")) {          // save, restore, erase
                    requirePost(method, path);
                    HttpIo.sendJson(ex, 200, l.slotFiles().handle(path.substring("/slots/".length()), ex.getRequestURI().getRawQuery(),
                            () -> readJson(ex)));
                    return 200;
                }
                throw ApiException.notFound("no endpoint " + path + " (there are " + String.join(", ", ENDPOINTS.stream().sorted().toList()) + ")");
            }
        }
    }

    private static void requireGet(String method, String path) {
        if (!method.equals("GET")) throw ApiException.methodNotAllowed(method, path, "GET");
    }

    private static void requirePost(String method, String path) {
        if (!method.equals("POST")) throw ApiException.methodNotAllowed(method, path, "POST");
    }

    private JsonNode readJson(HttpExchange ex) throws IOException {
        return HttpIo.readJson(ex, settings.maxRequestBytes(), settings.readTimeout());
    }

    private ObjectNode models(Loaded l) {
        Model model = l.model();
        SlotPool slots = l.slots();
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("object", "list");
        ObjectNode m = root.putArray("data").addObject();
        m.put("id", settings.modelId());
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "panllama");
        ObjectNode meta = m.putObject("meta");
        meta.put("n_vocab", model.config().vocabSize());
        meta.put("n_ctx_train", model.config().contextLength());
        meta.put("n_embd", model.config().embeddingLength());
        meta.put("n_ctx_slot", slots.contextPerSlot());
        meta.put("n_slots", slots.size());
        return root;
    }

    /** llama-server's {@code GET /props}: the defaults a request starts from, the slots, the model and its template. */
    private ObjectNode props(Loaded l) {
        Model model = l.model();
        SlotPool slots = l.slots();
        ChatFormat format = l.format();
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode gen = root.putObject("default_generation_settings");
        gen.put("n_ctx", slots.contextPerSlot());
        SamplerParams p = settings.sampling();
        ObjectNode params = gen.putObject("params");
        params.put("temperature", p.temperature()).put("top_k", p.topK()).put("top_p", p.topP()).put("min_p", p.minP())
                .put("repeat_penalty", p.repeatPenalty()).put("repeat_last_n", p.repeatLastN())
                .put("frequency_penalty", p.frequencyPenalty()).put("presence_penalty", p.presencePenalty()).put("seed", p.seed());
        root.put("total_slots", slots.size());
        root.put("model_alias", settings.modelId());
        root.put("model_path", model.path().toString());
        root.put("chat_template", format.template().description());
        root.putObject("modalities").put("vision", false).put("audio", false);
        root.put("embeddings", l.embeddings() != null);
        if (l.embeddings() != null) root.put("pooling", l.embeddings().pooling().cliName());
        String version = OpenAiServer.class.getPackage().getImplementationVersion();
        root.put("build_info", "panllama " + (version != null ? version : "development build"));
        return root;
    }

    /** Answers with an error unless a response has already begun (then the connection just closes). */
    private static void trySend(HttpExchange ex, int status, ObjectNode body) {
        if (ex.getResponseCode() != -1) return;
        try {
            HttpIo.sendJson(ex, status, body);
        } catch (IOException e) {
            // the client is gone
        }
    }

    ServerMetrics metrics() { return metrics; }

    /** The slots, once {@link #ready}. */
    SlotPool slots() { return loaded.slots(); }

    /** Tokens each slot holds, once {@link #ready}. */
    public int contextPerSlot() { return loaded.slots().contextPerSlot(); }

    /**
     * Stops: no new requests, generations in progress end at their next token, then the slots' caches
     * are freed. The model stays open (it belongs to the caller).
     */
    @Override
    public void close() {
        closing = true;
        http.stop(0);
        executor.shutdown();
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                // A request still runs on a session: closing its cache under it would crash it.
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        Loaded l = loaded;
        if (l != null) {
            l.loop().close();
            l.slots().close();
        }
    }
}
