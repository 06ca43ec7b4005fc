package dev.panllama.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panllama.sampling.Grammar;
import dev.panllama.sampling.JsonSchemaGrammar;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tool calling as llama.cpp's --jinja path does it (common/chat.cpp): the model's own template renders
 * the tools and the tool messages when it knows them, the reply is parsed into calls in the model
 * family's format, and a grammar forces a well-formed call when one is required.
 *
 * <p>Formats, found from the template's text: Hermes/Qwen ({@code <tool_call>{json}</tool_call>}),
 * Llama 3.x ({@code <|python_tag|>} or a bare {@code {"name", "parameters"}} object), Mistral
 * ({@code [TOOL_CALLS][...]}), DeepSeek V3/R1 ({@code <｜tool▁call▁begin｜>function<｜tool▁sep｜>name}
 * and a JSON block), and a generic one for templates that know no tools: the tools are described in
 * the system message and the whole reply is JSON, {@code {"tool_call": {...}}} or {@code {"response":
 * "..."}}, which a grammar always enforces (as llama.cpp's generic handler).
 */
public final class ToolCalls {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final SecureRandom RANDOM = new SecureRandom();
    /** The most calls one reply may make with parallel_tool_calls, when a grammar forces them: a bound for small models. */
    static final int MAX_PARALLEL_CALLS = 8;
    private static final String ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    /** How a model family writes its calls. */
    public enum Format { GENERIC, HERMES, LLAMA3, MISTRAL, DEEPSEEK }

    /** OpenAI's tool_choice: none, auto, required, or one named function ({@code function} set). */
    public record Choice(String mode, String function) {
        public static final Choice NONE = new Choice("none", null);
        public static final Choice AUTO = new Choice("auto", null);
        public static final Choice REQUIRED = new Choice("required", null);

        public static Choice named(String function) { return new Choice("function", function); }

        boolean forced() { return !mode.equals("auto"); }
    }

    /** A reply split into its text and its calls (the text null when there is none). */
    public record Parsed(String content, List<ToolCall> calls) {}

    private final Format format;
    private final List<ToolDefinition> tools;
    private final Choice choice;
    private final boolean parallel;

    public ToolCalls(ChatTemplate template, List<ToolDefinition> tools, Choice choice, boolean parallel) {
        this.format = detect(template);
        this.tools = List.copyOf(tools);
        this.choice = choice;
        this.parallel = parallel;
        if (choice.function() != null && tools.stream().noneMatch(t -> t.name().equals(choice.function()))) {
            throw new IllegalArgumentException("tool_choice names '" + choice.function() + "', which is not among the tools");
        }
    }

    public Format format() { return format; }

    static Format detect(ChatTemplate template) {
        String src = template.source();
        if (src.contains("<tool_call>")) return Format.HERMES;
        if (src.contains("[TOOL_CALLS]")) return Format.MISTRAL;
        if (src.contains("tool▁calls▁begin")) return Format.DEEPSEEK;
        if (src.contains("<|python_tag|>")) return Format.LLAMA3;
        return Format.GENERIC;
    }

    /**
     * The conversation as the template should see it: unchanged for templates that render tools; for
     * the generic format the tools go into the system message, earlier calls become the JSON the model
     * was asked to write, and tool results become user messages ({@code {"tool_response": ...}}).
     */
    public List<ChatMessage> prepare(List<ChatMessage> messages) {
        if (format != Format.GENERIC) return messages;
        List<ChatMessage> out = new ArrayList<>();
        Map<String, String> callNames = new HashMap<>();
        String instructions = instructions();
        boolean hasSystem = !messages.isEmpty() && messages.getFirst().role().equals("system");
        if (!hasSystem) out.add(ChatMessage.system(instructions));
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (i == 0 && hasSystem) {
                out.add(ChatMessage.system(m.content() + "\n\n" + instructions));
            } else if (m.role().equals("assistant") && !m.toolCalls().isEmpty()) {
                for (ToolCall c : m.toolCalls()) if (c.id() != null) callNames.put(c.id(), c.name());
                out.add(ChatMessage.assistant(write(generic(m.toolCalls()))));
            } else if (m.role().equals("tool")) {
                ObjectNode r = F.objectNode();
                ObjectNode body = r.putObject("tool_response");
                String name = m.toolCallId() != null ? callNames.get(m.toolCallId()) : null;
                if (name != null) body.put("tool", name);
                if (m.toolCallId() != null) body.put("tool_call_id", m.toolCallId());
                body.put("content", m.content());
                out.add(ChatMessage.user(write(r)));
            } else {
                out.add(m);
            }
        }
        return out;
    }

    private String instructions() {
        ArrayNode list = F.arrayNode();
        for (ToolDefinition t : tools) {
            ObjectNode o = list.addObject();
            o.put("name", t.name());
            if (t.description() != null) o.put("description", t.description());
            o.set("parameters", parameters(t));
        }
        String call = parallel ? "{\"tool_calls\": [{\"name\": ..., \"arguments\": {...}}, ...]}" : "{\"tool_call\": {\"name\": ..., \"arguments\": {...}}}";
        return "You can call these tools:\n" + write(list) + "\nAnswer with one JSON object: " + call + " to call "
                + (parallel ? "tools" : "a tool") + (choice.forced() ? "." : ", or {\"response\": \"...\"} to answer the user.");
    }

    private ObjectNode generic(List<ToolCall> calls) {
        ObjectNode o = F.objectNode();
        if (calls.size() == 1 && !parallel) {
            o.set("tool_call", callJson(calls.getFirst()));
        } else {
            ArrayNode a = o.putArray("tool_calls");
            for (ToolCall c : calls) a.add(callJson(c));
        }
        return o;
    }

    private static ObjectNode callJson(ToolCall c) {
        ObjectNode o = F.objectNode();
        o.put("name", c.name());
        o.set("arguments", parseOr(c.arguments(), F.objectNode()));
        return o;
    }

    /**
     * The grammar the reply must follow, or null: the generic format always has one (a call, or a
     * response when calls are optional); the others only when a call is required (or one function named).
     */
    public Grammar grammar() {
        if (choice.mode().equals("none")) return null;
        ObjectNode call = callSchema("arguments");
        String gbnf = switch (format) {
            case GENERIC -> {
                ObjectNode calls = F.objectNode();
                calls.put("type", "object");
                if (parallel) {
                    ObjectNode arr = calls.putObject("properties").putObject("tool_calls");
                    arr.put("type", "array").put("minItems", 1).put("maxItems", MAX_PARALLEL_CALLS).set("items", call);
                    calls.putArray("required").add("tool_calls");
                } else {
                    calls.putObject("properties").set("tool_call", call);
                    calls.putArray("required").add("tool_call");
                }
                if (choice.forced()) yield JsonSchemaGrammar.toGbnf(calls);
                ObjectNode response = F.objectNode().put("type", "object");
                response.putObject("properties").putObject("response").put("type", "string");
                response.putArray("required").add("response");
                ObjectNode any = F.objectNode();
                any.putArray("anyOf").add(calls).add(response);
                yield JsonSchemaGrammar.toGbnf(any);
            }
            case HERMES -> !choice.forced() ? null
                    : wrap(JsonSchemaGrammar.toGbnf(call), "\"<tool_call>\\n\" call \"\\n</tool_call>\"", "\"\\n\"");
            case LLAMA3 -> !choice.forced() ? null : JsonSchemaGrammar.toGbnf(callSchema("parameters"));
            case MISTRAL -> !choice.forced() ? null : "root ::= \"[TOOL_CALLS][\" call " + (parallel ? "(\", \" call){0," + (MAX_PARALLEL_CALLS - 1) + "} " : "") + "\"]\"\n"
                    + JsonSchemaGrammar.toGbnf(call).replaceFirst("(?m)^root ::=", "call ::=");
            case DEEPSEEK -> null;        // its markers are special tokens: parsed, not forced
        };
        return gbnf == null ? null : Grammar.parse(gbnf);
    }

    /** A grammar whose root repeats {@code item} (once, or with parallel calls once or more, joined by sep), the schema's root renamed call. */
    private String wrap(String schemaGbnf, String item, String sep) {
        String renamed = schemaGbnf.replaceFirst("(?m)^root ::=", "call ::=");
        String root = parallel ? item + " (" + sep + " " + item + "){0," + (MAX_PARALLEL_CALLS - 1) + "}" : item;
        return "root ::= " + root + "\n" + renamed;
    }

    /** Any of the callable tools (the named one only): {"name": const, argsKey: its parameters}. */
    private ObjectNode callSchema(String argsKey) {
        ArrayNode alternatives = F.arrayNode();
        for (ToolDefinition t : tools) {
            if (choice.function() != null && !t.name().equals(choice.function())) continue;
            ObjectNode o = F.objectNode().put("type", "object");
            ObjectNode props = o.putObject("properties");
            props.putObject("name").put("const", t.name());
            props.set(argsKey, parameters(t));
            o.putArray("required").add("name").add(argsKey);
            alternatives.add(o);
        }
        ObjectNode any = F.objectNode();
        any.set("anyOf", alternatives);
        return any;
    }

    private static JsonNode parameters(ToolDefinition t) {
        return t.parameters() == null || t.parameters().isNull() ? F.objectNode().put("type", "object") : t.parameters();
    }

    private static final Pattern HERMES_CALL = Pattern.compile("<tool_call>\\s*(.*?)\\s*</tool_call>", Pattern.DOTALL);
    private static final Pattern DEEPSEEK_CALL = Pattern.compile(
            "<｜tool▁call▁begin｜>\\s*function\\s*<｜tool▁sep｜>\\s*([^\\n]+?)\\s*\\n```(?:json)?\\s*(.*?)\\s*```\\s*<｜tool▁call▁end｜>", Pattern.DOTALL);

    /** Splits the reply into text and calls, in this format (and, failing that, a bare JSON call of a known tool). */
    public Parsed parse(String text) {
        List<ToolCall> calls = new ArrayList<>();
        String rest = text;
        switch (format) {
            case GENERIC -> {
                JsonNode j = parseOr(text.strip(), null);
                if (j != null && j.has("response")) return new Parsed(j.get("response").asText(), List.of());
                if (j != null && j.has("tool_call")) call(j.get("tool_call"), "arguments", calls);
                if (j != null && j.has("tool_calls")) for (JsonNode c : j.get("tool_calls")) call(c, "arguments", calls);
                if (!calls.isEmpty()) rest = "";
            }
            case HERMES -> {
                Matcher m = HERMES_CALL.matcher(text);
                StringBuilder kept = new StringBuilder();
                int last = 0;
                while (m.find()) {
                    JsonNode j = parseOr(m.group(1), null);
                    if (j == null || !call(j, "arguments", calls)) continue;
                    kept.append(text, last, m.start());
                    last = m.end();
                }
                kept.append(text.substring(last));
                rest = kept.toString();
            }
            case LLAMA3 -> {
                int tag = text.indexOf("<|python_tag|>");
                String body = tag >= 0 ? text.substring(tag + "<|python_tag|>".length()) : text;
                JsonNode j = parseOr(body.strip(), null);
                if (j != null && (call(j, "parameters", calls) || call(j, "arguments", calls))) rest = tag >= 0 ? text.substring(0, tag) : "";
            }
            case MISTRAL -> {
                int tag = text.indexOf("[TOOL_CALLS]");
                if (tag >= 0) {
                    JsonNode j = parseOr(text.substring(tag + "[TOOL_CALLS]".length()).strip(), null);
                    if (j != null && j.isArray()) for (JsonNode c : j) call(c, "arguments", calls);
                    if (!calls.isEmpty()) rest = text.substring(0, tag);
                }
            }
            case DEEPSEEK -> {
                Matcher m = DEEPSEEK_CALL.matcher(text);
                int first = -1;
                while (m.find()) {
                    JsonNode args = parseOr(m.group(2), null);
                    if (args == null || !isTool(m.group(1).strip())) continue;
                    if (first < 0) first = m.start();
                    calls.add(new ToolCall(newId(), m.group(1).strip(), write(args)));
                }
                if (first >= 0) {
                    int begin = text.indexOf("<｜tool▁calls▁begin｜>");
                    rest = text.substring(0, begin >= 0 && begin <= first ? begin : first);
                }
            }
        }
        if (calls.isEmpty() && format != Format.GENERIC) {
            JsonNode j = parseOr(text.strip(), null);          // the generic fallback: a bare call object
            if (j != null && (call(j, "arguments", calls) || call(j, "parameters", calls))) rest = "";
        }
        String content = rest.strip();
        return new Parsed(content.isEmpty() && !calls.isEmpty() ? null : calls.isEmpty() ? text : content, List.copyOf(calls));
    }

    /** Adds the call {@code j} describes ({"name", argsKey}) when it names a known tool. */
    private boolean call(JsonNode j, String argsKey, List<ToolCall> calls) {
        if (j == null || !j.isObject() || !j.path("name").isTextual() || !j.has(argsKey)) return false;
        String name = j.get("name").asText();
        if (!isTool(name)) return false;
        JsonNode args = j.get(argsKey);
        calls.add(new ToolCall(newId(), name, args.isTextual() ? args.asText() : write(args)));
        return true;
    }

    private boolean isTool(String name) {
        return tools.stream().anyMatch(t -> t.name().equals(name));
    }

    private static String newId() {
        StringBuilder sb = new StringBuilder("call_");
        for (int i = 0; i < 24; i++) sb.append(ID_CHARS.charAt(RANDOM.nextInt(ID_CHARS.length())));
        return sb.toString();
    }

    private static JsonNode parseOr(String text, JsonNode fallback) {
        if (text == null) return fallback;
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            return fallback;
        }
    }

    private static String write(JsonNode n) {
        try {
            return JSON.writeValueAsString(n);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A reply's reasoning, as llama.cpp's --reasoning-format deepseek splits it: text between a leading
     * {@code <think>} and {@code </think>} (the opening tag may be in the prompt, as DeepSeek-R1's
     * template puts it), and the rest. Returns {reasoning or null, rest}.
     */
    public static String[] splitReasoning(String text) {
        int end = text.indexOf("</think>");
        if (end < 0) return new String[]{null, text};
        String before = text.substring(0, end);
        String lead = before.stripLeading();
        if (lead.startsWith("<think>")) lead = lead.substring("<think>".length());
        else if (before.contains("<think>")) return new String[]{null, text};
        return new String[]{lead.strip(), text.substring(end + "</think>".length()).stripLeading()};
    }
}
