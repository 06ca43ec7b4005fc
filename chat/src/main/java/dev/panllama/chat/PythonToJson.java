package dev.panllama.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.AdvancedFilter;

import java.util.Map;

/**
 * The {@code tojson} filter as Hugging Face transformers defines it for chat templates: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=indent)}, so {@code ", "} and {@code ": "} between
 * items (only {@code ","} when indenting), no HTML escaping, non-ASCII characters as they are.
 * Jinjava's own tojson writes compact JSON, which would change the prompt of templates that embed JSON.
 */
final class PythonToJson implements AdvancedFilter {

    @Override
    public String getName() { return "tojson"; }

    @Override
    public Object filter(Object value, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
        StringBuilder sb = new StringBuilder();
        write(value, indent == null ? -1 : ((Number) indent).intValue(), 0, sb);
        return sb.toString();
    }

    static void write(Object v, int indent, int depth, StringBuilder sb) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> string(s, sb);
            case Boolean b -> sb.append(b ? "true" : "false");
            case Float f -> sb.append(floatText(f.doubleValue()));
            case Double d -> sb.append(floatText(d));
            case Number n -> sb.append(n);
            case Map<?, ?> m -> {
                sb.append('{');
                int i = 0;
                for (var e : m.entrySet()) {
                    separator(i++, indent, depth + 1, sb);
                    string(String.valueOf(e.getKey()), sb);
                    sb.append(": ");
                    write(e.getValue(), indent, depth + 1, sb);
                }
                close(i, indent, depth, sb);
                sb.append('}');
            }
            case Iterable<?> it -> {
                sb.append('[');
                int i = 0;
                for (Object o : it) {
                    separator(i++, indent, depth + 1, sb);
                    write(o, indent, depth + 1, sb);
                }
                close(i, indent, depth, sb);
                sb.append(']');
            }
            case Object[] a -> write(java.util.Arrays.asList(a), indent, depth, sb);
            default -> string(v.toString(), sb);
        }
    }

    private static void separator(int index, int indent, int depth, StringBuilder sb) {
        if (indent < 0) {
            if (index > 0) sb.append(", ");
            return;
        }
        if (index > 0) sb.append(',');
        sb.append('\n').append(" ".repeat(indent * depth));
    }

    private static void close(int items, int indent, int depth, StringBuilder sb) {
        if (indent >= 0 && items > 0) sb.append('\n').append(" ".repeat(indent * depth));
    }

    /** Python's float repr for ordinary magnitudes (both print the shortest digits; exponent forms differ below 1e-4 and from 1e16). */
    private static String floatText(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        return Double.toString(d).replace("E", "e");
    }

    private static void string(String s, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
