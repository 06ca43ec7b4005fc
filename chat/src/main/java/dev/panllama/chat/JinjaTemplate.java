package dev.panllama.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import jinjava.javax.el.CompositeELResolver;

import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's own chat template ({@code tokenizer.chat_template}), rendered with Jinjava as Hugging Face
 * transformers renders it with Jinja2: blocks trimmed ({@code trim_blocks}, {@code lstrip_blocks}),
 * the variables {@code messages}, {@code bos_token}, {@code eos_token}, {@code add_generation_prompt},
 * the functions {@code raise_exception(msg)} and {@code strftime_now(format)}, transformers' {@code tojson}
 * ({@link PythonToJson}); Python's string methods work on strings ({@link PythonStringMethods}). Thread-safe: each render has its own interpreter.
 */
public final class JinjaTemplate implements ChatTemplate {
    /** Output cap: a template is a loop over the messages; far more text than that means a runaway template. */
    private static final long MAX_OUTPUT_CHARS = 64L << 20;

    /**
     * Jinjava's switches towards Jinja2's behaviour: whitespace control on {@code {{- -}}} too, Python's
     * operator precedence, dict keys as expressions, iteration over a dict's keys, lists and dicts
     * printed as Python prints them, None kept in loops. Templates need not put spaces inside tags.
     */
    private static final LegacyOverrides JINJA2_SEMANTICS = LegacyOverrides.newBuilder()
            .withUseTrimmingForNotesAndExpressions(true)
            .withParseWhitespaceControlStrictly(true)
            .withUseNaturalOperatorPrecedence(true)
            .withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true)
            .withUsePyishObjectMapper(true)
            .withKeepNullableLoopValues(true)
            .withAllowAdjacentTextNodes(true)
            .build();

    private final String source;
    private final String prepared;
    private final String bosToken;
    private final String eosToken;
    private final String origin;
    private final Jinjava jinjava;

    /**
     * @param bosToken the text of the model's BOS token ("" when it has none)
     * @param origin   where the template came from, for messages (e.g. "the model")
     */
    public JinjaTemplate(String source, String bosToken, String eosToken, String origin) {
        this.source = source;
        this.prepared = Jinja2Source.prepare(source);
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.origin = origin;
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(false)        // done by Jinja2Source, as Jinja2 does it
                .withElResolver(resolver)
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withLegacyOverrides(JINJA2_SEMANTICS)
                .build());
        jinjava.getGlobalContext().registerFilter(new PythonToJson());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                JinjaTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                JinjaTemplate.class, "strftimeNow", String.class));
    }

    @Override
    public String source() { return source; }

    @Override
    public String description() { return "jinja (from " + origin + ")"; }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, List.of(), addGenerationPrompt);
    }

    /**
     * Messages as Hugging Face's templates expect them: an assistant's calls as {@code tool_calls}
     * ({@code {id, type: "function", function: {name, arguments}}}, the arguments a JSON object when
     * they parse), a tool's reply with its {@code tool_call_id}; the tools as OpenAI sends them.
     */
    @Override
    public String render(List<ChatMessage> messages, List<ToolDefinition> tools, boolean addGenerationPrompt) {
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            if (!m.toolCalls().isEmpty()) {
                List<Map<String, Object>> calls = new ArrayList<>();
                for (ToolCall c : m.toolCalls()) {
                    Map<String, Object> fn = new LinkedHashMap<>();
                    fn.put("name", c.name());
                    fn.put("arguments", jsonValue(c.arguments()));
                    Map<String, Object> call = new LinkedHashMap<>();
                    if (c.id() != null) call.put("id", c.id());
                    call.put("type", "function");
                    call.put("function", fn);
                    calls.add(call);
                }
                map.put("tool_calls", calls);
            }
            if (m.toolCallId() != null) map.put("tool_call_id", m.toolCallId());
            list.add(map);
        }
        Map<String, Object> context = new HashMap<>();
        if (!tools.isEmpty()) {
            List<Map<String, Object>> defs = new ArrayList<>();
            for (ToolDefinition t : tools) {
                Map<String, Object> fn = new LinkedHashMap<>();
                fn.put("name", t.name());
                if (t.description() != null) fn.put("description", t.description());
                fn.put("parameters", t.parameters() == null ? Map.of("type", "object") : JSON.convertValue(t.parameters(), Object.class));
                defs.add(new LinkedHashMap<>(Map.of("type", "function", "function", fn)));
            }
            context.put("tools", defs);
        }
        context.put("messages", list);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        context.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result;
        try {
            result = jinjava.renderForResult(prepared, context);
        } catch (RuntimeException e) {
            throw new ChatTemplateException("the chat template from " + origin + " failed: " + e.getMessage(), e);
        }
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) throw new ChatTemplateException(describe(e));
        }
        return result.getOutput();
    }

    private String describe(TemplateError e) {
        String raised = raisedMessage(e.getException());
        if (raised != null) return "the chat template rejected the conversation: " + raised;
        return "the chat template from " + origin + " failed"
                + (e.getLineno() > 0 ? " at line " + e.getLineno() : "") + ": " + e.getMessage();
    }

    private static String raisedMessage(Throwable t) {
        for (; t != null; t = t.getCause()) if (t instanceof Raised r) return r.getMessage();
        return null;
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** Call arguments as a JSON value (a map) when they parse, else the text: templates tojson or print them. */
    private static Object jsonValue(String arguments) {
        try {
            return JSON.readValue(arguments, Object.class);
        } catch (Exception e) {
            return arguments;
        }
    }

    /** What {@code raise_exception(msg)} throws: the template's own message, passed on to the caller. */
    static final class Raised extends RuntimeException {
        Raised(String message) {
            super(message);
        }
    }

    /** {@code raise_exception(msg)}, which templates call to reject a conversation (e.g. roles that do not alternate). */
    public static String raiseException(String message) {
        throw new Raised(message);
    }

    /** {@code strftime_now(format)}: the local time in a Python strftime format (Llama 3.x puts today's date in its system prompt). */
    public static String strftimeNow(String format) {
        return Strftime.format(format, LocalDateTime.now());
    }
}
