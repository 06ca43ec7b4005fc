package dev.panllama.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panllama.generate.Completion;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.sampling.TokenLogprob;
import dev.panllama.tokenizer.Tokenizer;

import java.util.List;

/**
 * The JSON of llama.cpp's own {@code POST /completion} (tools/server's README): one object per prompt
 * with the text as {@code content}, how it stopped ({@code stop_type}: eos, word, limit; none when
 * cancelled), the settings it ran with and llama.cpp's {@code timings}. A stream sends
 * {@code {"content": piece, "stop": false}} events, then the whole object with {@code stop: true}.
 */
final class LlamaCppResponses {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final String model;
    private final Tokenizer tokenizer;
    private final CompletionRequest request;
    private final List<int[]> prompts;
    private final int contextPerSlot;
    private final LogprobsJson logprobs;

    LlamaCppResponses(String model, Tokenizer tokenizer, CompletionRequest request, List<int[]> prompts, int contextPerSlot) {
        this.logprobs = new LogprobsJson(tokenizer);
        this.model = model;
        this.tokenizer = tokenizer;
        this.request = request;
        this.prompts = prompts;
        this.contextPerSlot = contextPerSlot;
    }

    /** A streamed piece of prompt {@code index}'s text. */
    ObjectNode partial(int index, int slot, String text, List<TokenLogprob> tokens) {
        ObjectNode o = F.objectNode();
        o.put("index", index);
        o.put("content", text);
        o.put("id_slot", slot);
        o.put("stop", false);
        if (request.settings().logprobs() >= 0) o.set("completion_probabilities", logprobs.llamaCpp(tokens));
        return o;
    }

    /** The whole answer to one prompt (streamed: its last event, without the text already sent). */
    ObjectNode result(CompletionEndpoint.Answer a) {
        Completion.Result r = a.result();
        ObjectNode o = F.objectNode();
        o.put("index", a.index());
        o.put("content", request.stream() ? "" : r.text());
        o.put("id_slot", a.slot());
        o.put("stop", true);
        o.put("model", model);
        o.put("tokens_predicted", r.completionTokens());
        o.put("tokens_evaluated", r.promptTokens());
        o.set("generation_settings", settings());
        o.put("prompt", tokenizer.decode(prompts.get(a.index()), false, true));
        o.put("has_new_line", r.text().indexOf('\n') >= 0);
        o.put("truncated", false);        // a prompt that does not fit is refused, never cut
        o.put("stop_type", switch (r.finishReason()) {
            case STOP -> r.stoppingWord() != null ? "word" : "eos";
            case LENGTH -> "limit";
            case CANCELLED -> "none";
        });
        o.put("stopping_word", r.stoppingWord() != null ? r.stoppingWord() : "");
        o.put("tokens_cached", a.cachedAfter());
        o.set("timings", ApiResponses.timings(r));
        var tokens = o.putArray("tokens");
        if (request.returnTokens()) for (int t : r.tokens()) tokens.add(t);
        if (request.settings().logprobs() >= 0 && !request.stream()) o.set("completion_probabilities", logprobs.llamaCpp(r.logprobs()));
        return o;
    }

    private ObjectNode settings() {
        SamplerParams p = request.settings().sampling();
        ObjectNode g = F.objectNode();
        g.put("n_ctx", contextPerSlot);
        g.put("n_predict", request.settings().maxTokens());
        g.put("seed", p.seed());
        g.put("temperature", p.temperature());
        g.put("top_k", p.topK());
        g.put("top_p", p.topP());
        g.put("min_p", p.minP());
        g.put("repeat_last_n", p.repeatLastN());
        g.put("repeat_penalty", p.repeatPenalty());
        g.put("presence_penalty", p.presencePenalty());
        g.put("frequency_penalty", p.frequencyPenalty());
        g.put("ignore_eos", request.settings().ignoreEos());
        var stop = g.putArray("stop");
        request.settings().stop().forEach(stop::add);
        g.put("stream", request.stream());
        g.put("cache_prompt", request.cachePrompt());
        return g;
    }
}
