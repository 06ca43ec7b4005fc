package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Typed, range-checked reads of a request's JSON fields. A field that is absent or null takes the
 * default; a field of the wrong type or outside its range is a 400 naming the field.
 */
final class RequestFields {
    private final JsonNode body;

    RequestFields(JsonNode body) {
        this.body = body;
    }

    JsonNode node(String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull() ? null : n;
    }

    boolean has(String name) { return node(name) != null; }

    double number(String name, double fallback, double min, double max) {
        JsonNode n = node(name);
        if (n == null) return fallback;
        if (!n.isNumber()) throw ApiException.invalid("'" + name + "' must be a number, not " + describe(n), name);
        double v = n.doubleValue();
        if (!(v >= min && v <= max)) throw ApiException.invalid("'" + name + "' must be between " + plain(min) + " and " + plain(max) + ", not " + n, name);
        return v;
    }

    long integer(String name, long fallback, long min, long max) {
        JsonNode n = node(name);
        if (n == null) return fallback;
        if (!n.isIntegralNumber() && !(n.isNumber() && n.doubleValue() == Math.rint(n.doubleValue()))) {
            throw ApiException.invalid("'" + name + "' must be an integer, not " + describe(n), name);
        }
        if (!n.canConvertToLong()) throw ApiException.invalid("'" + name + "' is out of range: " + n, name);
        long v = n.longValue();
        if (v < min || v > max) throw ApiException.invalid("'" + name + "' must be between " + min + " and " + max + ", not " + v, name);
        return v;
    }

    boolean bool(String name, boolean fallback) {
        JsonNode n = node(name);
        if (n == null) return fallback;
        if (!n.isBoolean()) throw ApiException.invalid("'" + name + "' must be true or false, not " + describe(n), name);
        return n.booleanValue();
    }

    String string(String name) {
        JsonNode n = node(name);
        if (n == null) return null;
        if (!n.isTextual()) throw ApiException.invalid("'" + name + "' must be a string, not " + describe(n), name);
        return n.textValue();
    }

    /** Refuses a field that asks for something this server does not do, unless it is absent, null, false or empty. */
    void unsupported(String name, String what) {
        JsonNode n = node(name);
        boolean off = n == null || (n.isBoolean() && !n.booleanValue()) || (n.isContainerNode() && n.isEmpty())
                || (n.isTextual() && n.textValue().isEmpty());
        if (!off) throw ApiException.invalid("'" + name + "' is not supported: " + what, name);
    }

    static String describe(JsonNode n) {
        String kind = n.isTextual() ? "a string" : n.isArray() ? "an array" : n.isObject() ? "an object"
                : n.isBoolean() ? "a boolean" : n.isNumber() ? "the number " + n : n.getNodeType().toString().toLowerCase();
        return kind;
    }

    private static String plain(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
