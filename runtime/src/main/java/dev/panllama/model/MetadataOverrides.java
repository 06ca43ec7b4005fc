package dev.panllama.model;

import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufMetadata;
import dev.panllama.gguf.GgufValueType;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * llama.cpp's {@code --override-kv KEY=TYPE:VALUE} (TYPE int, float, bool or str): metadata values that
 * replace or add to the file's at load, before anything reads them. A key may start with
 * {@code {arch}.}, which stands for the file's architecture (what the rope flags use).
 */
public record MetadataOverrides(List<GgufEntry> entries) {
    public static final MetadataOverrides NONE = new MetadataOverrides(List.of());

    public MetadataOverrides {
        entries = List.copyOf(entries);
    }

    /** Parses {@code KEY=TYPE:VALUE}; the error names the flag's text and what is wrong. */
    public static GgufEntry parse(String spec) {
        int eq = spec.indexOf('='), colon = eq < 0 ? -1 : spec.indexOf(':', eq);
        if (eq <= 0 || colon < 0) throw new IllegalArgumentException("--override-kv " + spec + ": must be KEY=TYPE:VALUE (TYPE int, float, bool or str)");
        String key = spec.substring(0, eq), type = spec.substring(eq + 1, colon), value = spec.substring(colon + 1);
        try {
            return switch (type) {
                case "int" -> new GgufEntry(key, GgufValueType.INT64, Long.parseLong(value), -1);
                case "float" -> {
                    double d = Double.parseDouble(value);
                    if (!Double.isFinite(d)) throw new NumberFormatException();
                    yield new GgufEntry(key, GgufValueType.FLOAT32, (float) d, -1);
                }
                case "bool" -> switch (value) {
                    case "true" -> new GgufEntry(key, GgufValueType.BOOL, Boolean.TRUE, -1);
                    case "false" -> new GgufEntry(key, GgufValueType.BOOL, Boolean.FALSE, -1);
                    default -> throw new NumberFormatException();
                };
                case "str" -> new GgufEntry(key, GgufValueType.STRING, value, -1);
                default -> throw new IllegalArgumentException("--override-kv " + spec + ": type '" + type + "' is not int, float, bool or str");
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--override-kv " + spec + ": '" + value + "' is not a " + type);
        }
    }

    public boolean isEmpty() { return entries.isEmpty(); }

    /** The file's metadata with these values in place. */
    public GgufMetadata apply(GgufMetadata md) {
        if (entries.isEmpty()) return md;
        String arch = md.getString("general.architecture", "");
        Map<String, GgufEntry> out = new LinkedHashMap<>();
        for (GgufEntry e : md.entries()) out.put(e.key(), e);
        for (GgufEntry e : entries) {
            String key = e.key().startsWith("{arch}.") ? arch + e.key().substring("{arch}".length()) : e.key();
            out.put(key, new GgufEntry(key, e.type(), e.value(), -1));
        }
        return GgufMetadata.of(out);
    }
}
