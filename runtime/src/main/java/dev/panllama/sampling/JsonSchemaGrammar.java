package dev.panllama.sampling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A JSON schema as a GBNF {@link Grammar} whose sentences are JSON documents valid against it, as
 * llama.cpp's json-schema-to-grammar makes them: {@code type} (one or a list), {@code enum},
 * {@code const}, objects with {@code properties} (in their order; {@code required} ones always, the
 * others optionally) and {@code additionalProperties} as a schema for maps, arrays with {@code items},
 * {@code prefixItems}, {@code minItems}/{@code maxItems}, strings with {@code minLength}/{@code maxLength},
 * {@code pattern} (a regular-expression subset) and the formats date, time, date-time and uuid,
 * non-negative integers ({@code minimum} >= 0), {@code anyOf}/{@code oneOf}, {@code allOf} of objects, and
 * {@code $ref} into {@code $defs}/{@code definitions}. No schema (or {@code {}}) is any JSON value.
 * Generated objects carry no properties beyond those listed, which every schema allows.
 */
public final class JsonSchemaGrammar {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_RULES = 10_000;

    private static final Map<String, String> PRIMITIVES = new LinkedHashMap<>();

    static {
        PRIMITIVES.put("space", "| \" \" | \"\\n\" [ \\t]{0,20}");
        PRIMITIVES.put("boolean", "(\"true\" | \"false\") space");
        PRIMITIVES.put("null", "\"null\" space");
        PRIMITIVES.put("integral-part", "[0] | [1-9] [0-9]{0,15}");
        PRIMITIVES.put("decimal-part", "[0-9]{1,16}");
        PRIMITIVES.put("integer", "(\"-\"? integral-part) space");
        PRIMITIVES.put("natural", "integral-part space");
        PRIMITIVES.put("number", "(\"-\"? integral-part) (\".\" decimal-part)? ([eE] [-+]? integral-part)? space");
        PRIMITIVES.put("char", "[^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\bfnrt] | \"u\" [0-9a-fA-F]{4})");
        PRIMITIVES.put("string", "\"\\\"\" char* \"\\\"\" space");
        PRIMITIVES.put("value", "object | array | string | number | boolean | null");
        PRIMITIVES.put("object", "\"{\" space ( string \":\" space value (\",\" space string \":\" space value)* )? \"}\" space");
        PRIMITIVES.put("array", "\"[\" space ( value (\",\" space value)* )? \"]\" space");
        PRIMITIVES.put("date", "[0-9]{4} \"-\" ( \"0\" [1-9] | \"1\" [0-2] ) \"-\" ( \"0\" [1-9] | [1-2] [0-9] | \"3\" [0-1] )");
        PRIMITIVES.put("time", "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" [0-9]{3} )? ( \"Z\" | ( \"+\" | \"-\" ) ( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] )");
        PRIMITIVES.put("date-time", "date \"T\" time");
        PRIMITIVES.put("uuid", "[0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{12}");
    }

    /** Which primitives use which others (so that only those needed are written). */
    private static final Map<String, List<String>> USES = Map.ofEntries(
            Map.entry("boolean", List.of("space")), Map.entry("null", List.of("space")),
            Map.entry("integer", List.of("integral-part", "space")), Map.entry("natural", List.of("integral-part", "space")),
            Map.entry("number", List.of("integral-part", "decimal-part", "space")),
            Map.entry("string", List.of("char", "space")),
            Map.entry("value", List.of("object", "array", "string", "number", "boolean", "null")),
            Map.entry("object", List.of("space", "string", "value")), Map.entry("array", List.of("space", "value")),
            Map.entry("date-time", List.of("date", "time")));

    private final JsonNode root;
    private final Map<String, String> rules = new LinkedHashMap<>();
    private final Set<String> primitives = new LinkedHashSet<>();
    private final Map<String, String> refs = new HashMap<>();

    private JsonSchemaGrammar(JsonNode root) {
        this.root = root;
    }

    /** The GBNF of a schema given as JSON text; a bad schema is an IllegalArgumentException naming where. */
    public static String toGbnf(String schemaJson) {
        JsonNode schema;
        try {
            schema = JSON.readTree(schemaJson);
        } catch (Exception e) {
            throw new IllegalArgumentException("JSON schema: not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        return toGbnf(schema);
    }

    public static String toGbnf(JsonNode schema) {
        JsonSchemaGrammar g = new JsonSchemaGrammar(schema);
        String body = g.visit(schema, "root", "$");
        if (!body.equals("root")) g.rules.put("root", body);
        StringBuilder sb = new StringBuilder();
        g.rules.forEach((name, rule) -> sb.append(name).append(" ::= ").append(rule).append('\n'));
        Set<String> needed = new LinkedHashSet<>();
        for (String p : g.primitives) need(p, needed);
        for (String p : PRIMITIVES.keySet()) if (needed.contains(p) && !g.rules.containsKey(p)) sb.append(p).append(" ::= ").append(PRIMITIVES.get(p)).append('\n');
        return sb.toString();
    }

    private static void need(String p, Set<String> out) {
        if (!out.add(p)) return;
        for (String q : USES.getOrDefault(p, List.of())) need(q, out);
    }

    private String primitive(String name) {
        primitives.add(name);
        return name;
    }

    /** A rule for the schema; returns an expression that matches it (a rule name, or a short inline form). */
    private String visit(JsonNode s, String name, String where) {
        if (s == null || s.isNull() || (s.isBoolean() && s.booleanValue()) || (s.isObject() && s.isEmpty())) return primitive("value");
        if (s.isBoolean()) throw new IllegalArgumentException("JSON schema at " + where + ": 'false' allows nothing");
        if (!s.isObject()) throw new IllegalArgumentException("JSON schema at " + where + ": a schema must be an object, not " + s.getNodeType());
        if (rules.size() > MAX_RULES) throw new IllegalArgumentException("JSON schema: too large (more than " + MAX_RULES + " rules)");
        if (s.has("$ref")) return ref(s.get("$ref").asText(), where);
        if (s.has("const")) {
            primitive("space");
            return define(name, literal(s.get("const")) + " space");
        }
        if (s.has("enum")) {
            List<String> alts = new ArrayList<>();
            for (JsonNode v : s.get("enum")) alts.add(literal(v));
            if (alts.isEmpty()) throw new IllegalArgumentException("JSON schema at " + where + ": an empty enum allows nothing");
            primitive("space");
            return define(name, "(" + String.join(" | ", alts) + ") space");
        }
        for (String key : new String[]{"anyOf", "oneOf"}) {
            if (s.has(key)) {
                List<String> alts = new ArrayList<>();
                int i = 0;
                for (JsonNode sub : s.get(key)) alts.add(visit(sub, name + "-" + i, where + "." + key + "[" + i++ + "]"));
                return define(name, String.join(" | ", alts));
            }
        }
        if (s.has("allOf")) return visit(mergeAllOf(s, where), name, where);
        JsonNode type = s.get("type");
        if (type != null && type.isArray()) {
            List<String> alts = new ArrayList<>();
            for (JsonNode t : type) {
                var copy = s.deepCopy();
                ((com.fasterxml.jackson.databind.node.ObjectNode) copy).set("type", t);
                alts.add(visit(copy, name + "-" + t.asText(), where));
            }
            return define(name, String.join(" | ", alts));
        }
        String t = type != null ? type.asText() : s.has("properties") ? "object" : s.has("items") || s.has("prefixItems") ? "array" : "";
        return switch (t) {
            case "object" -> object(s, name, where);
            case "array" -> array(s, name, where);
            case "string" -> string(s, name, where);
            case "integer" -> s.path("minimum").asDouble(-1) >= 0 ? primitive("natural") : primitive("integer");
            case "number" -> primitive("number");
            case "boolean" -> primitive("boolean");
            case "null" -> primitive("null");
            case "" -> primitive("value");
            default -> throw new IllegalArgumentException("JSON schema at " + where + ": unknown type '" + t + "'");
        };
    }

    private String define(String name, String body) {
        String n = name.replaceAll("[^a-zA-Z0-9-]", "-");
        String unique = n;
        for (int i = 1; rules.containsKey(unique) || PRIMITIVES.containsKey(unique); i++) unique = n + "-" + i;
        rules.put(unique, body);
        return unique;
    }

    private String ref(String ref, String where) {
        String known = refs.get(ref);
        if (known != null) return known;
        if (!ref.startsWith("#/")) throw new IllegalArgumentException("JSON schema at " + where + ": only local $refs (#/...) are supported, not '" + ref + "'");
        JsonNode target = root.at(ref.substring(1));
        if (target.isMissingNode()) throw new IllegalArgumentException("JSON schema at " + where + ": $ref '" + ref + "' points nowhere");
        String name = define("ref" + ref.substring(1).replace('/', '-'), "");      // reserved first: a recursive schema refers to it
        refs.put(ref, name);
        String body = visit(target, name + "-body", ref);
        rules.put(name, body);
        return name;
    }

    private String object(JsonNode s, String name, String where) {
        JsonNode props = s.get("properties");
        primitive("space");
        if (s.has("required")) {
            for (JsonNode r : s.get("required")) {
                if (props == null || !props.has(r.asText())) {
                    throw new IllegalArgumentException("JSON schema at " + where + ": required property '" + r.asText() + "' is not in properties");
                }
            }
        }
        if (props == null || props.isEmpty()) {
            JsonNode extra = s.get("additionalProperties");
            if (extra != null && extra.isBoolean() && !extra.booleanValue()) return define(name, "\"{\" space \"}\" space");
            if (extra == null || extra.isBoolean()) return primitive("object");
            String value = visit(extra, name + "-value", where + ".additionalProperties");
            String kv = define(name + "-kv", primitive("string") + " \":\" space " + value);
            return define(name, "\"{\" space (" + kv + " (\",\" space " + kv + ")*)? \"}\" space");
        }
        Set<String> required = new LinkedHashSet<>();
        if (s.has("required")) for (JsonNode r : s.get("required")) required.add(r.asText());
        List<String> req = new ArrayList<>(), opt = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            var e = it.next();
            String value = visit(e.getValue(), name + "-" + e.getKey(), where + ".properties." + e.getKey());
            String kv = define(name + "-" + e.getKey() + "-kv", literal(JSON.getNodeFactory().textNode(e.getKey())) + " space \":\" space " + value);
            (required.contains(e.getKey()) ? req : opt).add(kv);
        }
        StringBuilder body = new StringBuilder("\"{\" space ");
        body.append(String.join(" \",\" space ", req));
        if (!opt.isEmpty()) {
            if (req.isEmpty()) {
                body.append("(").append(optionalChain(name, opt, 0)).append(")?");
            } else {
                for (String o : opt) body.append(" (\",\" space ").append(o).append(")?");
            }
        }
        body.append(" \"}\" space");
        return define(name, body.toString());
    }

    /** Any ordered, non-empty subset of opt[from..], comma-separated: o_i then the rest optionally. */
    private String optionalChain(String name, List<String> opt, int from) {
        List<String> alts = new ArrayList<>();
        for (int i = from; i < opt.size(); i++) {
            StringBuilder a = new StringBuilder(opt.get(i));
            for (int j = i + 1; j < opt.size(); j++) a.append(" (\",\" space ").append(opt.get(j)).append(")?");
            alts.add(a.toString());
        }
        return define(name + "-opt", String.join(" | ", alts));
    }

    private String array(JsonNode s, String name, String where) {
        primitive("space");
        if (s.has("prefixItems")) {
            List<String> items = new ArrayList<>();
            int i = 0;
            for (JsonNode sub : s.get("prefixItems")) items.add(visit(sub, name + "-" + i, where + ".prefixItems[" + i++ + "]"));
            return define(name, "\"[\" space " + String.join(" \",\" space ", items) + " \"]\" space");
        }
        String item = visit(s.get("items"), name + "-item", where + ".items");
        int min = s.path("minItems").asInt(0);
        int max = s.has("maxItems") ? s.get("maxItems").asInt() : -1;
        if (min < 0 || (max >= 0 && max < min)) throw new IllegalArgumentException("JSON schema at " + where + ": minItems/maxItems allow nothing");
        if (max == 0) return define(name, "\"[\" space \"]\" space");
        String more = "(\",\" space " + item + ")" + repetition(Math.max(0, min - 1), max < 0 ? -1 : max - 1);
        String list = item + " " + more;
        return define(name, "\"[\" space " + (min == 0 ? "(" + list + ")?" : list) + " \"]\" space");
    }

    private static String repetition(int min, int max) {
        if (min == 0 && max < 0) return "*";
        if (max < 0) return "{" + min + ",}";
        return "{" + min + "," + max + "}";
    }

    private String string(JsonNode s, String name, String where) {
        primitive("space");
        if (s.has("pattern")) {
            String expr = RegexToGbnf.convert(s.get("pattern").asText(), where + ".pattern");
            return define(name, "\"\\\"\" " + expr + " \"\\\"\" space");
        }
        if (s.has("format")) {
            String f = s.get("format").asText();
            if (f.equals("date") || f.equals("time") || f.equals("date-time") || f.equals("uuid")) {
                return define(name, "\"\\\"\" " + primitive(f) + " \"\\\"\" space");
            }
        }
        int min = s.path("minLength").asInt(0);
        int max = s.has("maxLength") ? s.get("maxLength").asInt() : -1;
        if (min == 0 && max < 0) return primitive("string");
        primitive("char");
        return define(name, "\"\\\"\" char" + repetition(min, max) + " \"\\\"\" space");
    }

    private JsonNode mergeAllOf(JsonNode s, String where) {
        var merged = JSON.createObjectNode();
        var props = merged.putObject("properties");
        var required = merged.putArray("required");
        merged.put("type", "object");
        for (JsonNode sub : s.get("allOf")) {
            JsonNode part = sub.has("$ref") ? root.at(sub.get("$ref").asText().substring(1)) : sub;
            if (!part.has("properties")) throw new IllegalArgumentException("JSON schema at " + where + ": allOf is supported for objects with properties");
            props.setAll((com.fasterxml.jackson.databind.node.ObjectNode) part.get("properties"));
            if (part.has("required")) part.get("required").forEach(required::add);
        }
        return merged;
    }

    /** A JSON value as a GBNF string literal of its compact serialization. */
    private static String literal(JsonNode v) {
        String json;
        try {
            json = JSON.writeValueAsString(v);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format(Locale.ROOT, "\\x%02X", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
