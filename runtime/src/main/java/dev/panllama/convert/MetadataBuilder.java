package dev.panllama.convert;

import dev.panllama.gguf.GgufArray;
import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufMetadata;
import dev.panllama.gguf.GgufValueType;
import dev.panllama.gguf.GgufWriter;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GGUF metadata assembled in memory, in insertion order: what a converter writes into a file and what
 * a model converted at load time reads, from the same entries.
 */
public final class MetadataBuilder {
    private final Map<String, GgufEntry> entries = new LinkedHashMap<>();

    public MetadataBuilder put(String key, GgufValueType type, Object value) {
        entries.put(key, new GgufEntry(key, type, value, -1));
        return this;
    }

    public MetadataBuilder putString(String key, String v) { return put(key, GgufValueType.STRING, v); }

    public MetadataBuilder putU32(String key, long v) {
        if (v < 0 || v > 0xFFFFFFFFL) throw new IllegalArgumentException(key + " = " + v + " does not fit a u32");
        return put(key, GgufValueType.UINT32, v);
    }

    public MetadataBuilder putF32(String key, double v) { return put(key, GgufValueType.FLOAT32, (float) v); }

    public MetadataBuilder putBool(String key, boolean v) { return put(key, GgufValueType.BOOL, v); }

    public MetadataBuilder putArray(String key, GgufValueType elementType, Object javaArray) {
        return put(key, GgufValueType.ARRAY, GgufArray.of(elementType, javaArray));
    }

    /** Copies an entry read from another file. */
    public MetadataBuilder copy(GgufEntry e) {
        return put(e.key(), e.type(), e.value());
    }

    public MetadataBuilder remove(String key) {
        entries.remove(key);
        return this;
    }

    public boolean contains(String key) { return entries.containsKey(key); }

    public GgufMetadata build() {
        return GgufMetadata.of(entries);
    }

    public void writeTo(GgufWriter w) {
        for (GgufEntry e : entries.values()) w.copy(e);
    }
}
