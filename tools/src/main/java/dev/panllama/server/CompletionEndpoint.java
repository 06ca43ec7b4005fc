package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import dev.panllama.chat.ChatFormat;
import dev.panllama.chat.ChatTemplateException;
import dev.panllama.chat.Completion;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.tokenizer.Tokenizer;

import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * {@code /v1/chat/completions} and {@code /v1/completions}: check the request, render and tokenize the
 * prompt, wait for a slot, generate, and answer in one JSON body or as a stream of chunks. Everything
 * that can be refused is refused (400) before a slot is taken or a header is sent. While streaming, a
 * write that fails (the client went away) cancels the generation, and the slot is freed.
 */
final class CompletionEndpoint {
    private static final String ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ChatFormat format;
    private final Tokenizer tokenizer;
    private final SlotPool slots;
    private final ServerMetrics metrics;
    private final SamplerParams defaults;
    private final String modelId;
    private final long maxRequestBytes;
    private final Duration readTimeout;
    private final BooleanSupplier closing;

    CompletionEndpoint(ChatFormat format, SlotPool slots, ServerMetrics metrics, SamplerParams defaults, String modelId,
                       long maxRequestBytes, Duration readTimeout, BooleanSupplier closing) {
        this.format = format;
        this.tokenizer = format.tokenizer();
        this.slots = slots;
        this.metrics = metrics;
        this.defaults = defaults;
        this.modelId = modelId;
        this.maxRequestBytes = maxRequestBytes;
        this.readTimeout = readTimeout;
        this.closing = closing;
    }

    /** Handles one request; returns the HTTP status it was answered with. */
    int handle(HttpExchange ex, boolean chat) throws IOException {
        JsonNode body = HttpIo.readJson(ex, maxRequestBytes, readTimeout);
        CompletionRequest req = chat ? CompletionRequest.chat(body, defaults)
                : CompletionRequest.completion(body, defaults, tokenizer.vocabSize());
        int[] prompt = prompt(req);
        ApiResponses out = new ApiResponses(chat, (chat ? "chatcmpl-" : "cmpl-") + randomId(), System.currentTimeMillis() / 1000, modelId);

        SlotPool.Slot slot;
        try {
            slot = slots.acquire(prompt);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("the server is shutting down");
        }
        if (!req.stream()) {
            Completion.Result r;
            try {
                r = Completion.run(slot.session, tokenizer, prompt, req.settings(), text -> !closing.getAsBoolean());
            } finally {
                slots.release(slot);
            }
            metrics.completion(r);
            if (r.finishReason() == Completion.FinishReason.CANCELLED) throw ApiException.unavailable("the server is shutting down");
            HttpIo.sendJson(ex, 200, out.response(r));
            return 200;
        }
        try (SseStream sse = SseStream.open(ex)) {
            stream(sse, slot, prompt, req, out, chat);
        } finally {
            slots.release(slot);
        }
        return 200;
    }

    private void stream(SseStream sse, SlotPool.Slot slot, int[] prompt, CompletionRequest req, ApiResponses out, boolean chat) {
        if (chat && !sse.send(out.roleChunk())) return;
        Completion.Result r;
        try {
            r = Completion.run(slot.session, tokenizer, prompt, req.settings(),
                    text -> !closing.getAsBoolean() && sse.send(out.textChunk(text)));
        } catch (Throwable t) {
            // The headers are gone: the error can only be an event of the stream, which then ends properly.
            // Thrown on, the failure is logged and counted as a 500 like any other.
            sse.send(ApiException.internal(t).body());
            throw t;
        }
        metrics.completion(r);
        if (r.finishReason() == Completion.FinishReason.CANCELLED) return;
        sse.send(out.finalChunk(r));
        if (req.includeUsage()) sse.send(out.usageChunk(r));
        sse.done();
    }

    /** The prompt's tokens, checked against the slot's context: too long is the client's error (400), as in llama.cpp. */
    private int[] prompt(CompletionRequest req) {
        int[] tokens;
        if (req.messages() != null) {
            try {
                tokens = format.encode(req.messages(), true);
            } catch (ChatTemplateException e) {
                throw ApiException.invalid(e.getMessage(), "messages");
            }
        } else if (req.promptTokens() != null) {
            tokens = req.promptTokens();
        } else {
            tokens = tokenizer.encode(req.promptText(), true, true);
        }
        if (tokens.length == 0) throw ApiException.invalid("the prompt is empty (and the model adds no BOS token)", "prompt");
        int context = slots.contextPerSlot();
        if (tokens.length >= context) {
            throw ApiException.invalid("the request exceeds the available context size: the prompt is " + tokens.length
                    + " tokens, a slot holds " + context + " (start the server with a larger -c or fewer --parallel slots)",
                    req.messages() != null ? "messages" : "prompt");
        }
        return tokens;
    }

    private static String randomId() {
        StringBuilder sb = new StringBuilder(24);
        for (int i = 0; i < 24; i++) sb.append(ID_CHARS.charAt(RANDOM.nextInt(ID_CHARS.length())));
        return sb.toString();
    }
}
