package dev.panllama.gguf;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file, in file order. Typed getters convert between numeric widths
 * the way llama.cpp's loader does (any integer type for an integer key, any numeric type for a float
 * key) and fail with a message naming the key when the stored type cannot serve.
 */
public final class GgufMetadata {
    private final Map<String, GgufEntry> entries;

    GgufMetadata(Map<String, GgufEntry> entries) {
        this.entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    public static GgufMetadata of(Map<String, GgufEntry> entries) {
        return new GgufMetadata(entries);
    }

    public int size() { return entries.size(); }

    public Set<String> keys() { return entries.keySet(); }

    public Collection<GgufEntry> entries() { return entries.values(); }

    public boolean contains(String key) { return entries.containsKey(key); }

    public Optional<GgufEntry> entry(String key) { return Optional.ofNullable(entries.get(key)); }

    private GgufEntry require(String key) {
        GgufEntry e = entries.get(key);
        if (e == null) throw new MetadataException("missing metadata key '" + key + "'");
        return e;
    }

    public String getString(String key) {
        GgufEntry e = require(key);
        if (e.value() instanceof String s) return s;
        throw wrongType(e, "a string");
    }

    public Optional<String> findString(String key) {
        return contains(key) ? Optional.of(getString(key)) : Optional.empty();
    }

    public String getString(String key, String fallback) {
        return contains(key) ? getString(key) : fallback;
    }

    public long getLong(String key) {
        GgufEntry e = require(key);
        if (e.value() instanceof Long l) return l;
        throw wrongType(e, "an integer");
    }

    public long getLong(String key, long fallback) {
        return contains(key) ? getLong(key) : fallback;
    }

    /** An integer key that must fit an int (counts, dimensions, token ids). */
    public int getInt(String key) {
        long v = getLong(key);
        GgufEntry e = entries.get(key);
        boolean unsigned32 = e.type() == GgufValueType.UINT32;
        if (unsigned32 && v > Integer.MAX_VALUE) return (int) v;   // e.g. 0xFFFFFFFF "unset" token ids
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new MetadataException("metadata key '" + key + "' = " + v + " does not fit a 32-bit integer");
        }
        return (int) v;
    }

    public int getInt(String key, int fallback) {
        return contains(key) ? getInt(key) : fallback;
    }

    public Optional<Integer> findInt(String key) {
        return contains(key) ? Optional.of(getInt(key)) : Optional.empty();
    }

    public double getDouble(String key) {
        GgufEntry e = require(key);
        return switch (e.value()) {
            case Float f -> f;
            case Double d -> d;
            case Long l -> (double) l;
            default -> throw wrongType(e, "a number");
        };
    }

    public float getFloat(String key, float fallback) {
        return contains(key) ? (float) getDouble(key) : fallback;
    }

    public Optional<Float> findFloat(String key) {
        return contains(key) ? Optional.of((float) getDouble(key)) : Optional.empty();
    }

    public boolean getBool(String key) {
        GgufEntry e = require(key);
        return switch (e.value()) {
            case Boolean b -> b;
            case Long l -> l != 0;
            default -> throw wrongType(e, "a boolean");
        };
    }

    public boolean getBool(String key, boolean fallback) {
        return contains(key) ? getBool(key) : fallback;
    }

    public Optional<Boolean> findBool(String key) {
        return contains(key) ? Optional.of(getBool(key)) : Optional.empty();
    }

    public GgufArray getArray(String key) {
        GgufEntry e = require(key);
        if (e.value() instanceof GgufArray a) return a;
        throw wrongType(e, "an array");
    }

    public Optional<GgufArray> findArray(String key) {
        return contains(key) ? Optional.of(getArray(key)) : Optional.empty();
    }

    private static MetadataException wrongType(GgufEntry e, String wanted) {
        return new MetadataException("metadata key '" + e.key() + "' is " + e.type() + ", expected " + wanted);
    }

    /** A metadata key is missing or of a type that cannot serve where it is read. */
    public static final class MetadataException extends IllegalArgumentException {
        public MetadataException(String message) { super(message); }
    }
}
