package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.chat.ChatMessage;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.chat.ToolCall;
import dev.panllama.chat.ToolCalls;
import dev.panllama.chat.ToolDefinition;
import dev.panllama.model.ContextShift;
import dev.panllama.sampling.Grammar;
import dev.panllama.sampling.SamplerChain;
import dev.panllama.sampling.JsonSchemaGrammar;
import dev.panllama.sampling.SamplerParams;

import java.util.ArrayList;
import java.util.List;

/**
 * A request to {@code /v1/chat/completions} (messages), {@code /v1/completions} or llama.cpp's own
 * {@code /completion} (one prompt or a list of them), checked field by field. Sampling fields are
 * OpenAI's and llama.cpp's: temperature, top_p, top_k, min_p, max_tokens (max_completion_tokens,
 * n_predict), stop, seed, repeat_penalty, repeat_last_n, presence_penalty, frequency_penalty,
 * ignore_eos, and a grammar (grammar, json_schema, response_format); chat requests may list tools
 * (tool_choice, parallel_tool_calls) and carry tool calls and tool messages; n must be 1. Fields that would
 * change the answer in ways this server cannot honour (echo, ...) are
 * refused rather than ignored; fields that do not (user, metadata, ...) are ignored.
 *
 * @param messages     the conversation (chat), else null
 * @param prompts      the prompts (completions), each answered on its own, else null
 * @param cachePrompt  whether a prompt may reuse what a slot's cache holds (llama.cpp's cache_prompt)
 * @param returnTokens whether /completion's answer lists the generated token ids (return_tokens)
 */
record CompletionRequest(List<ChatMessage> messages, List<Prompt> prompts, boolean stream, boolean includeUsage,
                         CompletionSettings settings, boolean cachePrompt, boolean returnTokens, List<ToolDefinition> tools,
                         ToolCalls.Choice toolChoice, boolean parallelToolCalls) {
    CompletionRequest(List<ChatMessage> messages, List<Prompt> prompts, boolean stream, boolean includeUsage,
                      CompletionSettings settings, boolean cachePrompt, boolean returnTokens) {
        this(messages, prompts, stream, includeUsage, settings, cachePrompt, returnTokens, List.of(), ToolCalls.Choice.NONE, false);
    }

    CompletionRequest withSettings(CompletionSettings s) {
        return new CompletionRequest(messages, prompts, stream, includeUsage, s, cachePrompt, returnTokens, tools, toolChoice, parallelToolCalls);
    }

    /** Whether the reply is to be parsed for tool calls. */
    boolean callsTools() { return !tools.isEmpty() && !toolChoice.mode().equals("none"); }

    static final int MAX_STOP_STRINGS = 16;
    /** OpenAI's json_object: any JSON object. */
    private static final JsonNode JSON_OBJECT = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("type", "object");
    /** Prompts one request may list: each takes a slot in turn, and a long list is a queue of its own. */
    static final int MAX_PROMPTS = 64;

    /** One prompt: its text, or its token ids. */
    record Prompt(String text, int[] tokens) {}

    static CompletionRequest chat(JsonNode body, SamplerParams defaults, int defaultMaxTokens, ContextShift shift, int vocabSize) {
        RequestFields f = fields(body);
        f.unsupported("functions", "OpenAI's old functions field: send tools");
        f.unsupported("function_call", "OpenAI's old function_call field: send tool_choice");
        f.unsupported("audio", "text only");
        List<ToolDefinition> tools = tools(f.node("tools"));
        ToolCalls.Choice choice = toolChoice(f.node("tool_choice"), tools);
        // OpenAI chat: "logprobs": true, with "top_logprobs" (0..20) alternatives per token.
        int top = (int) f.integer("top_logprobs", 0, 0, 20);
        if (f.has("top_logprobs") && !f.bool("logprobs", false)) throw ApiException.invalid("'top_logprobs' needs 'logprobs': true", "top_logprobs");
        int logprobs = f.bool("logprobs", false) ? top : -1;
        return new CompletionRequest(messages(f.node("messages")), null, f.bool("stream", false), includeUsage(f),
                settings(f, defaults, defaultMaxTokens, shift, vocabSize).withLogprobs(logprobs), true, false, tools, choice,
                f.bool("parallel_tool_calls", false));
    }

    static CompletionRequest completion(JsonNode body, SamplerParams defaults, int defaultMaxTokens, ContextShift shift, int vocabSize) {
        RequestFields f = fields(body);
        f.unsupported("echo", "the prompt is not echoed");
        f.unsupported("suffix", "no insertion (fill-in-the-middle) mode");
        f.integer("best_of", 1, 1, 1);            // one candidate per request, as n
        // Legacy completions: "logprobs": N (0..5) alternatives per token.
        int logprobs = (int) f.integer("logprobs", -1, 0, 5);
        return new CompletionRequest(null, prompts(body.get("prompt"), vocabSize), f.bool("stream", false), includeUsage(f),
                settings(f, defaults, defaultMaxTokens, shift, vocabSize).withLogprobs(logprobs), true, false);
    }

    /** llama.cpp's {@code POST /completion}: n_predict, cache_prompt, return_tokens; no usage chunk. */
    static CompletionRequest llamaCpp(JsonNode body, SamplerParams defaults, int defaultMaxTokens, ContextShift shift, int vocabSize) {
        RequestFields f = fields(body);
        f.unsupported("input_prefix", "no insertion (fill-in-the-middle) mode");
        f.unsupported("input_suffix", "no insertion (fill-in-the-middle) mode");
        f.unsupported("image_data", "text only");
        f.integer("id_slot", -1, -1, -1);        // the server picks the slot (the one with the longest shared prefix)
        int nProbs = (int) f.integer("n_probs", 0, 0, 20);         // llama.cpp: each token with its n most probable alternatives
        return new CompletionRequest(null, prompts(body.get("prompt"), vocabSize), f.bool("stream", false), false,
                settings(f, defaults, defaultMaxTokens, shift, vocabSize).withLogprobs(nProbs > 0 ? nProbs : -1), f.bool("cache_prompt", true),
                f.bool("return_tokens", false));
    }

    /**
     * A string, a list of token ids, or a list of prompts (strings or lists of token ids), each answered
     * on its own as OpenAI and llama.cpp do.
     */
    private static List<Prompt> prompts(JsonNode prompt, int vocabSize) {
        if (prompt == null || prompt.isNull()) throw ApiException.invalid("'prompt' is required", "prompt");
        if (prompt.isTextual() || (prompt.isArray() && !prompt.isEmpty() && allIntegers(prompt))) {
            return List.of(prompt(prompt, "prompt", vocabSize));
        }
        if (!prompt.isArray() || prompt.isEmpty()) {
            throw ApiException.invalid("'prompt' must be a string, a list of token ids, or a non-empty list of those", "prompt");
        }
        if (prompt.size() > MAX_PROMPTS) throw ApiException.invalid("'prompt' lists " + prompt.size() + " prompts; at most " + MAX_PROMPTS, "prompt");
        List<Prompt> out = new ArrayList<>();
        for (int i = 0; i < prompt.size(); i++) out.add(prompt(prompt.get(i), "prompt[" + i + "]", vocabSize));
        return out;
    }

    private static Prompt prompt(JsonNode p, String where, int vocabSize) {
        if (p.isTextual()) return new Prompt(p.textValue(), null);
        if (!p.isArray() || p.isEmpty() || !allIntegers(p)) {
            throw ApiException.invalid("'" + where + "' must be a string or a non-empty list of token ids", where);
        }
        int[] tokens = new int[p.size()];
        for (int i = 0; i < tokens.length; i++) {
            long id = p.get(i).longValue();
            if (id < 0 || id >= vocabSize) throw ApiException.invalid("'" + where + "' token id " + id + " is outside the vocabulary of " + vocabSize, where);
            tokens[i] = (int) id;
        }
        return new Prompt(null, tokens);
    }

    private static RequestFields fields(JsonNode body) {
        if (body == null || !body.isObject()) throw ApiException.invalid("the request body must be a JSON object", null);
        RequestFields f = new RequestFields(body);
        if (f.integer("n", 1, 1, Integer.MAX_VALUE) != 1) throw ApiException.invalid("'n' must be 1: one choice per request", "n");
        return f;
    }

    private static boolean includeUsage(RequestFields f) {
        JsonNode opts = f.node("stream_options");
        if (opts == null) return false;
        if (!opts.isObject()) throw ApiException.invalid("'stream_options' must be an object", "stream_options");
        return new RequestFields(opts).bool("include_usage", false);
    }

    /** @param shift the server's context shift; a request's n_keep replaces its --keep */
    private static CompletionSettings settings(RequestFields f, SamplerParams d, int defaultMaxTokens, ContextShift shift, int vocabSize) {
        long maxTokens = defaultMaxTokens;
        for (String name : new String[]{"max_completion_tokens", "max_tokens", "n_predict"}) {
            if (f.has(name)) {
                maxTokens = f.integer(name, -1, -1, Integer.MAX_VALUE);
                break;
            }
        }
        SamplerChain dc = d.chain();
        SamplerChain chain;
        try {
            chain = new SamplerChain(
                    (float) f.number("typical_p", dc.typicalP(), 1e-6, 1),
                    (int) f.integer("mirostat", dc.mirostat(), 0, 2),
                    (float) f.number("mirostat_tau", dc.mirostatTau(), 0, 1000),
                    (float) f.number("mirostat_eta", dc.mirostatEta(), 1e-6, 100),
                    (float) f.number("dry_multiplier", dc.dryMultiplier(), 0, 1000),
                    (float) f.number("dry_base", dc.dryBase(), 1, 1000),
                    (int) f.integer("dry_allowed_length", dc.dryAllowedLength(), 0, Integer.MAX_VALUE),
                    (int) f.integer("dry_penalty_last_n", dc.dryPenaltyLastN(), -1, Integer.MAX_VALUE),
                    f.has("dry_sequence_breakers") ? strings(f.node("dry_sequence_breakers"), "dry_sequence_breakers") : dc.drySequenceBreakers(),
                    (float) f.number("xtc_probability", dc.xtcProbability(), 0, 1),
                    (float) f.number("xtc_threshold", dc.xtcThreshold(), 0, 1),
                    (float) f.number("top_n_sigma", dc.topNSigma(), -1, 1000),
                    f.has("logit_bias") ? logitBias(f.node("logit_bias"), vocabSize) : dc.logitBias(),
                    f.has("samplers") ? order(f.node("samplers")) : dc.order());
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(e.getMessage(), null);
        }
        SamplerParams p = new SamplerParams(
                (float) f.number("temperature", d.temperature(), 0, 100),
                (int) f.integer("top_k", d.topK(), 0, Integer.MAX_VALUE),
                (float) f.number("top_p", d.topP(), 0, 1),
                (float) f.number("min_p", d.minP(), 0, 1),
                (float) f.number("repeat_penalty", d.repeatPenalty(), 1e-6, 100),
                (int) f.integer("repeat_last_n", d.repeatLastN(), -1, Integer.MAX_VALUE),
                (float) f.number("frequency_penalty", d.frequencyPenalty(), -2, 2),
                (float) f.number("presence_penalty", d.presencePenalty(), -2, 2),
                f.integer("seed", d.seed(), -1, 0xFFFFFFFFL),
                chain);
        ContextShift s = new ContextShift(shift.enabled(), (int) f.integer("n_keep", shift.keep(), -1, Integer.MAX_VALUE));
        return new CompletionSettings((int) maxTokens, p, stops(f.node("stop")), f.bool("ignore_eos", false), s, grammar(f), -1);
    }

    /**
     * The grammar the text must follow: llama.cpp's {@code grammar} (GBNF) or {@code json_schema}, or
     * OpenAI's {@code response_format} ({@code json_object}, optionally with a {@code schema}, or
     * {@code json_schema} with {@code json_schema.schema}); at most one of them. Null: none.
     */
    private static Grammar grammar(RequestFields f) {
        String gbnf = f.string("grammar");
        JsonNode schema = f.node("json_schema");
        JsonNode format = f.node("response_format");
        String field = gbnf != null && !gbnf.isEmpty() ? "grammar" : schema != null ? "json_schema" : "response_format";
        if (format != null) {
            if (!format.isObject()) throw ApiException.invalid("'response_format' must be an object", "response_format");
            String type = format.path("type").asText("text");
            switch (type) {
                case "text" -> format = null;
                case "json_object" -> format = format.has("schema") ? format.get("schema") : JSON_OBJECT;
                case "json_schema" -> {
                    JsonNode inner = format.path("json_schema");
                    if (!inner.isObject() || !inner.has("schema")) {
                        throw ApiException.invalid("'response_format' of type json_schema needs 'json_schema': {\"schema\": {...}}", "response_format");
                    }
                    format = inner.get("schema");
                }
                default -> throw ApiException.invalid("'response_format.type' must be text, json_object or json_schema, not '" + type + "'", "response_format");
            }
        }
        int given = (gbnf != null && !gbnf.isEmpty() ? 1 : 0) + (schema != null ? 1 : 0) + (format != null ? 1 : 0);
        if (given > 1) throw ApiException.invalid("give one of 'grammar', 'json_schema' and a JSON 'response_format'", field);
        try {
            if (gbnf != null && !gbnf.isEmpty()) return Grammar.parse(gbnf);
            JsonNode s = schema != null ? schema : format;
            return s == null ? null : Grammar.parse(JsonSchemaGrammar.toGbnf(s));
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw ApiException.invalid("'" + field + "': " + e.getMessage(), field);
        }
    }

    /**
     * OpenAI's {@code {"token id": bias}} map, or llama.cpp's {@code [[id, bias], ...]} list; a bias of
     * false bans the token (-infinity), as llama.cpp reads it.
     */
    private static java.util.Map<Integer, Float> logitBias(JsonNode node, int vocabSize) {
        java.util.Map<Integer, Float> out = new java.util.HashMap<>();
        java.util.List<java.util.Map.Entry<String, JsonNode>> pairs = new ArrayList<>();
        if (node.isObject()) {
            node.properties().forEach(pairs::add);
        } else if (node.isArray()) {
            for (JsonNode pair : node) {
                if (!pair.isArray() || pair.size() != 2) throw ApiException.invalid("'logit_bias' pairs must be [token id, bias]", "logit_bias");
                pairs.add(java.util.Map.entry(pair.get(0).asText(), pair.get(1)));
            }
        } else {
            throw ApiException.invalid("'logit_bias' must be an object of token ids to biases, or a list of [id, bias]", "logit_bias");
        }
        if (pairs.size() > 1024) throw ApiException.invalid("'logit_bias' has " + pairs.size() + " entries; at most 1024", "logit_bias");
        for (var e : pairs) {
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                throw ApiException.invalid("'logit_bias' key '" + e.getKey() + "' is not a token id", "logit_bias");
            }
            if (id < 0 || id >= vocabSize) throw ApiException.invalid("'logit_bias' token id " + id + " is outside the vocabulary of " + vocabSize, "logit_bias");
            JsonNode v = e.getValue();
            float bias;
            if (v.isBoolean() && !v.booleanValue()) bias = Float.NEGATIVE_INFINITY;
            else if (v.isNumber() && Double.isFinite(v.doubleValue()) && Math.abs(v.doubleValue()) <= 100) bias = v.floatValue();
            else throw ApiException.invalid("'logit_bias' for token " + id + " must be a number in [-100, 100] or false", "logit_bias");
            out.put(id, bias);
        }
        return out;
    }

    /** llama.cpp's {@code samplers}: a list of names, or one string of them separated by ';'. */
    private static List<SamplerChain.Stage> order(JsonNode node) {
        List<String> names = node.isTextual() ? List.of(node.textValue().split(";")) : strings(node, "samplers");
        try {
            return names.stream().filter(n -> !n.isBlank()).map(SamplerChain.Stage::parse).toList();
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("'samplers': " + e.getMessage(), "samplers");
        }
    }

    private static List<String> strings(JsonNode node, String field) {
        if (!node.isArray()) throw ApiException.invalid("'" + field + "' must be a list of strings", field);
        List<String> out = new ArrayList<>();
        for (JsonNode n : node) {
            if (!n.isTextual()) throw ApiException.invalid("'" + field + "' must hold strings, not " + RequestFields.describe(n), field);
            out.add(n.textValue());
        }
        return out;
    }

    private static List<String> stops(JsonNode stop) {
        List<String> out = new ArrayList<>();
        if (stop == null) return out;
        if (stop.isTextual()) {
            if (!stop.textValue().isEmpty()) out.add(stop.textValue());
            return out;
        }
        if (!stop.isArray()) throw ApiException.invalid("'stop' must be a string or a list of strings", "stop");
        if (stop.size() > MAX_STOP_STRINGS) throw ApiException.invalid("'stop' has " + stop.size() + " strings; at most " + MAX_STOP_STRINGS, "stop");
        for (JsonNode s : stop) {
            if (!s.isTextual()) throw ApiException.invalid("'stop' must hold strings, not " + RequestFields.describe(s), "stop");
            if (!s.textValue().isEmpty()) out.add(s.textValue());
        }
        return out;
    }

    private static final java.util.regex.Pattern TOOL_NAME = java.util.regex.Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    /** Tools a request may list: each is described in the prompt. */
    static final int MAX_TOOLS = 128;

    /** OpenAI's {@code tools}: {@code [{"type": "function", "function": {"name", "description", "parameters"}}]}. */
    private static List<ToolDefinition> tools(JsonNode node) {
        if (node == null) return List.of();
        if (!node.isArray()) throw ApiException.invalid("'tools' must be a list", "tools");
        if (node.size() > MAX_TOOLS) throw ApiException.invalid("'tools' lists " + node.size() + " tools; at most " + MAX_TOOLS, "tools");
        List<ToolDefinition> out = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode t = node.get(i);
            String where = "tools[" + i + "]";
            if (!t.isObject() || !"function".equals(t.path("type").asText()) || !t.path("function").isObject()) {
                throw ApiException.invalid("'" + where + "' must be {\"type\": \"function\", \"function\": {...}}", where);
            }
            JsonNode fn = t.get("function");
            String name = fn.path("name").asText("");
            if (!TOOL_NAME.matcher(name).matches()) throw ApiException.invalid("'" + where + ".function.name' must be 1 to 64 of a-z, A-Z, 0-9, _ and -", where);
            if (!names.add(name)) throw ApiException.invalid("'" + where + "': tool '" + name + "' is listed twice", where);
            JsonNode params = fn.get("parameters");
            if (params != null && !params.isNull() && !params.isObject()) throw ApiException.invalid("'" + where + ".function.parameters' must be a JSON schema object", where);
            out.add(new ToolDefinition(name, fn.path("description").isTextual() ? fn.get("description").asText() : null,
                    params == null || params.isNull() ? null : params));
        }
        return out;
    }

    /** OpenAI's {@code tool_choice}: "none", "auto" (the default with tools), "required", or {"type": "function", "function": {"name"}}. */
    private static ToolCalls.Choice toolChoice(JsonNode node, List<ToolDefinition> tools) {
        if (node == null) return tools.isEmpty() ? ToolCalls.Choice.NONE : ToolCalls.Choice.AUTO;
        ToolCalls.Choice c;
        if (node.isTextual()) {
            c = switch (node.textValue()) {
                case "none" -> ToolCalls.Choice.NONE;
                case "auto" -> ToolCalls.Choice.AUTO;
                case "required" -> ToolCalls.Choice.REQUIRED;
                default -> throw ApiException.invalid("'tool_choice' must be none, auto, required or {\"type\": \"function\", ...}, not '" + node.textValue() + "'", "tool_choice");
            };
        } else if (node.isObject() && node.path("function").path("name").isTextual()) {
            c = ToolCalls.Choice.named(node.path("function").path("name").asText());
        } else {
            throw ApiException.invalid("'tool_choice' must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}", "tool_choice");
        }
        if (!c.mode().equals("none") && !c.mode().equals("auto") && tools.isEmpty()) {
            throw ApiException.invalid("'tool_choice' asks for a call, but there are no 'tools'", "tool_choice");
        }
        if (c.function() != null && tools.stream().noneMatch(t -> t.name().equals(c.function()))) {
            throw ApiException.invalid("'tool_choice' names '" + c.function() + "', which is not among the tools", "tool_choice");
        }
        return c;
    }

    private static List<ChatMessage> messages(JsonNode messages) {
        if (messages == null) throw ApiException.invalid("'messages' is required", "messages");
        if (!messages.isArray() || messages.isEmpty()) throw ApiException.invalid("'messages' must be a non-empty list of messages", "messages");
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) throw ApiException.invalid("'" + where + "' must be an object", where);
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual()) throw ApiException.invalid("'" + where + ".role' must be a string", where + ".role");
            String r = switch (role.textValue()) {
                case "system", "developer" -> "system";      // OpenAI's newer name for the system message
                case "user", "assistant", "tool" -> role.textValue();
                case "function" -> throw ApiException.invalid("'" + where + "': function messages (OpenAI's old form) are not supported: send tool messages", where + ".role");
                default -> throw ApiException.invalid("'" + where + ".role' must be system, developer, user, assistant or tool, not '" + role.textValue() + "'", where + ".role");
            };
            List<ToolCall> calls = new ArrayList<>();
            JsonNode tc = m.get("tool_calls");
            if (tc != null && !tc.isNull() && !tc.isEmpty()) {
                if (!r.equals("assistant") || !tc.isArray()) throw ApiException.invalid("'" + where + ".tool_calls' must be a list, on an assistant message", where + ".tool_calls");
                for (int k = 0; k < tc.size(); k++) {
                    JsonNode call = tc.get(k);
                    JsonNode fn = call.path("function");
                    if (!fn.path("name").isTextual()) throw ApiException.invalid("'" + where + ".tool_calls[" + k + "].function.name' is required", where + ".tool_calls");
                    JsonNode args = fn.get("arguments");
                    String argText = args == null || args.isNull() ? "{}" : args.isTextual() ? args.textValue() : args.toString();
                    calls.add(new ToolCall(call.path("id").isTextual() ? call.get("id").asText() : null, fn.get("name").asText(), argText));
                }
            }
            String callId = m.path("tool_call_id").isTextual() ? m.get("tool_call_id").asText() : null;
            if (r.equals("tool") && callId == null) throw ApiException.invalid("'" + where + ".tool_call_id' is required on a tool message", where + ".tool_call_id");
            out.add(new ChatMessage(r, content(m.get("content"), where), calls, callId));
        }
        return out;
    }

    /** A string, or a list of parts of which the text ones are joined with newlines (as llama.cpp does). */
    private static String content(JsonNode content, String where) {
        if (content == null || content.isNull()) return "";
        if (content.isTextual()) return content.textValue();
        if (!content.isArray()) throw ApiException.invalid("'" + where + ".content' must be a string or a list of parts", where + ".content");
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : content) {
            String type = part.path("type").asText("");
            if (!type.equals("text") || !part.path("text").isTextual()) {
                throw ApiException.invalid("'" + where + ".content' parts must be {\"type\": \"text\", \"text\": ...}; '" + type + "' is not supported",
                        where + ".content");
            }
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(part.get("text").textValue());
        }
        return sb.toString();
    }

    private static boolean allIntegers(JsonNode array) {
        for (JsonNode n : array) if (!n.isIntegralNumber()) return false;
        return true;
    }
}
