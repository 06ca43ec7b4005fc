package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import dev.panllama.chat.ChatFormat;
import dev.panllama.chat.ChatTemplateException;
import dev.panllama.generate.Completion;
import dev.panllama.chat.ToolCalls;
import dev.panllama.sampling.Grammar;
import dev.panllama.model.ContextShift;
import dev.panllama.sampling.TokenLogprob;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.tokenizer.Tokenizer;

import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code /v1/chat/completions}, {@code /v1/completions} and llama.cpp's {@code /completion}: check the
 * request, render and tokenize the prompts, and for each wait for a slot, generate (in the
 * {@link DecodeLoop}, beside the other requests), and answer in one JSON body or as a stream of events.
 * Everything that can be refused is refused (400) before a slot is taken or a header is sent. While
 * streaming, a write that fails (the client went away) cancels the generation, and the slot is freed.
 * A list of prompts is answered prompt by prompt, each in a slot of its own, at the same time when
 * slots are free.
 */
final class CompletionEndpoint {
    /** Which API a request came in by: they share everything but the shape of the JSON. */
    enum Api { CHAT, COMPLETIONS, LLAMA_CPP }

    /** One prompt's end: in which slot it ran, the tokens that slot's cache then held, and the result. */
    record Answer(int index, int slot, int cachedAfter, Completion.Result result) {}

    /** Where a completion's text and end go (called from the prompts' threads, one at a time per prompt). */
    interface Sink {
        /** False when the text can no longer be delivered: the completion is cancelled. */
        boolean text(int index, int slot, String text, List<TokenLogprob> logprobs);

        void end(Answer answer);
    }

    private static final String ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ChatFormat format;
    private final Tokenizer tokenizer;
    private final SlotPool slots;
    private final ServerMetrics metrics;
    private final SamplerParams defaults;
    private final int defaultMaxTokens;
    private final ContextShift contextShift;
    private final Grammar defaultGrammar;
    private final String modelId;
    private final long maxRequestBytes;
    private final Duration readTimeout;
    private final DecodeLoop loop;

    CompletionEndpoint(ChatFormat format, SlotPool slots, ServerMetrics metrics, OpenAiServer.Settings settings, DecodeLoop loop) {
        this.format = format;
        this.tokenizer = format.tokenizer();
        this.slots = slots;
        this.metrics = metrics;
        this.defaults = settings.sampling();
        this.defaultMaxTokens = settings.defaultMaxTokens();
        this.contextShift = settings.contextShift();
        this.defaultGrammar = settings.grammar();
        this.modelId = settings.modelId();
        this.maxRequestBytes = settings.maxRequestBytes();
        this.readTimeout = settings.readTimeout();
        this.loop = loop;
    }

    /** Handles one request; returns the HTTP status it was answered with. */
    int handle(HttpExchange ex, Api api) throws IOException {
        JsonNode body = HttpIo.readJson(ex, maxRequestBytes, readTimeout);
        CompletionRequest req = switch (api) {
            case CHAT -> CompletionRequest.chat(body, defaults, defaultMaxTokens, contextShift, tokenizer.vocabSize());
            case COMPLETIONS -> CompletionRequest.completion(body, defaults, defaultMaxTokens, contextShift, tokenizer.vocabSize());
            case LLAMA_CPP -> CompletionRequest.llamaCpp(body, defaults, defaultMaxTokens, contextShift, tokenizer.vocabSize());
        };
        if (defaultGrammar != null && req.settings().grammar() == null && !req.callsTools()) {
            req = req.withSettings(req.settings().withGrammar(defaultGrammar));     // serve's --grammar / --json-schema
        }
        ToolCalls calls = null;
        if (req.callsTools()) {
            calls = new ToolCalls(format.template(), req.tools(), req.toolChoice(), req.parallelToolCalls());
            Grammar g;
            try {
                g = calls.grammar();
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw ApiException.invalid("'tools': " + e.getMessage(), "tools");
            }
            if (g != null && req.settings().grammar() != null) {
                throw ApiException.invalid("tool calls with a grammar of their own cannot be combined with a grammar or a JSON response_format", "tools");
            }
            // The call markers of some families are special tokens: the parser needs them in the text.
            req = req.withSettings((g != null ? req.settings().withGrammar(g) : req.settings()).withSpecialText(true));
        }
        List<int[]> prompts = prompts(req, calls);
        if (api == Api.LLAMA_CPP) return llamaCpp(ex, req, prompts);
        boolean chat = api == Api.CHAT;
        ApiResponses out = new ApiResponses(chat, (chat ? "chatcmpl-" : "cmpl-") + randomId(), System.currentTimeMillis() / 1000, modelId,
                new LogprobsJson(tokenizer), req.settings().logprobs() >= 0, calls);
        if (!req.stream()) {
            List<Answer> answers = runAll(prompts, req, new Sink() {
                public boolean text(int index, int slot, String text, List<TokenLogprob> logprobs) { return true; }

                public void end(Answer answer) {}
            });
            logTokens(ex, answers);
            HttpIo.sendJson(ex, 200, out.response(answers.stream().map(Answer::result).toList()));
            return 200;
        }
        boolean parsed = calls != null;
        try (SseStream sse = SseStream.open(ex)) {
            if (chat && !sse.send(out.roleChunk())) return 200;
            List<Answer> answers = streamAll(sse, prompts, req, new Sink() {
                public boolean text(int index, int slot, String text, List<TokenLogprob> logprobs) {
                    // With tools the reply is parsed whole (a call is not text): it goes out at the end, in one delta.
                    return parsed ? !sse.broken() : sse.send(out.textChunk(index, text, logprobs));
                }

                public void end(Answer a) {
                    if (a.result().finishReason() == Completion.FinishReason.CANCELLED) return;
                    if (parsed) sse.send(out.parsedChunk(a.index(), a.result()));
                    sse.send(out.finalChunk(a.index(), a.result()));
                }
            });
            if (answers == null) return 200;
            logTokens(ex, answers);
            if (req.includeUsage()) sse.send(out.usageChunk(answers.stream().map(Answer::result).toList()));
            sse.done();
        }
        return 200;
    }

    /** llama.cpp's /completion: one object per prompt (a list of them for a list of prompts); its stream has no [DONE]. */
    private int llamaCpp(HttpExchange ex, CompletionRequest req, List<int[]> prompts) throws IOException {
        LlamaCppResponses out = new LlamaCppResponses(modelId, tokenizer, req, prompts, slots.contextPerSlot());
        if (!req.stream()) {
            List<Answer> answers = runAll(prompts, req, new Sink() {
                public boolean text(int index, int slot, String text, List<TokenLogprob> logprobs) { return true; }

                public void end(Answer answer) {}
            });
            logTokens(ex, answers);
            HttpIo.sendJson(ex, 200, prompts.size() == 1 ? out.result(answers.getFirst())
                    : HttpIo.JSON.valueToTree(answers.stream().map(out::result).toList()));
            return 200;
        }
        try (SseStream sse = SseStream.open(ex)) {
            List<Answer> answers = streamAll(sse, prompts, req, new Sink() {
                public boolean text(int index, int slot, String text, List<TokenLogprob> logprobs) {
                    return sse.send(out.partial(index, slot, text, logprobs));
                }

                public void end(Answer a) {
                    if (a.result().finishReason() != Completion.FinishReason.CANCELLED) sse.send(out.result(a));
                }
            });
            if (answers != null) logTokens(ex, answers);
        }
        return 200;
    }

    /**
     * Runs the prompts into a stream whose headers are sent; returns the answers, or null when the client
     * went away. A failure can then only be an event of the stream, which ends properly; thrown on, it is
     * logged and counted as a 500 like any other.
     */
    private List<Answer> streamAll(SseStream sse, List<int[]> prompts, CompletionRequest req, Sink sink) {
        List<Answer> answers;
        try {
            answers = runAll(prompts, req, sink);
        } catch (ApiException e) {
            sse.send(e.body());
            throw e;
        } catch (Throwable t) {
            sse.send(ApiException.internal(t).body());
            throw t;
        }
        return sse.broken() ? null : answers;
    }

    /**
     * Runs each prompt in a slot; several at once on virtual threads of their own (each holds one slot
     * at a time, so requests with many prompts cannot deadlock each other). The first failure is thrown
     * once all have ended; so is a server shutting down.
     */
    private List<Answer> runAll(List<int[]> prompts, CompletionRequest req, Sink sink) {
        List<Answer> answers = new ArrayList<>();
        if (prompts.size() == 1) {
            answers.add(runOne(0, prompts.getFirst(), req, sink));
        } else {
            try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<Answer>> futures = new ArrayList<>();
                for (int i = 0; i < prompts.size(); i++) {
                    int index = i;
                    futures.add(threads.submit(() -> runOne(index, prompts.get(index), req, sink)));
                }
                RuntimeException failure = null;
                for (Future<Answer> f : futures) {
                    try {
                        answers.add(f.get());
                    } catch (ExecutionException e) {
                        if (failure == null) failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        if (failure == null) failure = ApiException.unavailable("the server is shutting down");
                    }
                }
                if (failure != null) throw failure;
            }
        }
        return answers;
    }

    private Answer runOne(int index, int[] prompt, CompletionRequest req, Sink sink) {
        SlotPool.Slot slot;
        try {
            slot = slots.acquire(prompt);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("the server is shutting down");
        }
        Answer answer;
        try {
            if (!req.cachePrompt()) slot.session.clear();
            try (DecodeLoop.Job job = loop.submit(slot.session, tokenizer, prompt, req.settings())) {
                Completion.Result r = job.await(new Completion.Listener() {
                    public boolean onText(String text) { return sink.text(index, slot.id, text, List.of()); }

                    public boolean onText(String text, List<TokenLogprob> logprobs) { return sink.text(index, slot.id, text, logprobs); }
                });
                answer = new Answer(index, slot.id, slot.session.size(), r);
            }
        } finally {
            slots.release(slot);
        }
        metrics.completion(answer.result());
        if (answer.result().finishReason() == Completion.FinishReason.CANCELLED && loop.closing()) {
            throw ApiException.unavailable("the server is shutting down");
        }
        sink.end(answer);
        return answer;
    }

    /** What the request log says of a completion: its tokens (OpenAiServer logs it at PANLLAMA_LOG=info). */
    private static void logTokens(HttpExchange ex, List<Answer> answers) {
        int prompt = 0, cached = 0, generated = 0;
        for (Answer a : answers) {
            prompt += a.result().promptTokens();
            cached += a.result().cachedTokens();
            generated += a.result().completionTokens();
        }
        OpenAiServer.logTokens(ex, "prompt " + prompt + " (" + cached + " cached) + " + generated + " generated");
    }

    /** The prompts' tokens, each checked against a slot's context: too long is the client's error (400), as in llama.cpp. */
    private List<int[]> prompts(CompletionRequest req, ToolCalls calls) {
        List<int[]> out = new ArrayList<>();
        if (req.messages() != null) {
            try {
                if (calls == null) out.add(format.encode(req.messages(), true));
                else out.add(format.encode(calls.prepare(req.messages()), calls.format() == ToolCalls.Format.GENERIC ? List.of() : req.tools(), true));
            } catch (ChatTemplateException e) {
                throw ApiException.invalid(e.getMessage(), "messages");
            }
        } else {
            for (CompletionRequest.Prompt p : req.prompts()) out.add(p.tokens() != null ? p.tokens() : tokenizer.encode(p.text(), true, true));
        }
        int context = slots.contextPerSlot();
        for (int i = 0; i < out.size(); i++) {
            int[] tokens = out.get(i);
            String field = req.messages() != null ? "messages" : out.size() > 1 ? "prompt[" + i + "]" : "prompt";
            if (tokens.length == 0) throw ApiException.invalid("the prompt is empty (and the model adds no BOS token)", field);
            if (tokens.length >= context) {
                throw ApiException.invalid("the request exceeds the available context size: the prompt is " + tokens.length
                        + " tokens, a slot holds " + context + " (start the server with a larger -c or fewer --parallel slots)", field);
            }
        }
        return out;
    }

    private static String randomId() {
        StringBuilder sb = new StringBuilder(24);
        for (int i = 0; i < 24; i++) sb.append(ID_CHARS.charAt(RANDOM.nextInt(ID_CHARS.length())));
        return sb.toString();
    }
}
