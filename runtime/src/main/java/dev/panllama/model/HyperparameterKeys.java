package dev.panllama.model;

import dev.panllama.gguf.GgufArray;
import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufMetadata;
import dev.panllama.gguf.GgufValueType;

/**
 * Reads one architecture's hyper-parameters ({@code ARCH.block_count}, ...) from GGUF metadata, each
 * checked for type and range before anything is sized from it: a hostile or broken file fails at load
 * with the key and its value ({@code llama.block_count = -5, but it must be at least 1}), never later
 * with an OutOfMemoryError or an index error. {@link ModelConfig} and {@link Deepseek2Config} read every
 * hyper-parameter through this class; {@link HyperparameterChecks} then checks them against the tensors.
 *
 * <p>Types: llama.cpp's loader (llama-model-loader.cpp, GGUFMeta::GKV) refuses a key whose GGUF type is
 * not the one it reads ("key X has wrong type Y but expected type Z"): UINT32 for counts, FLOAT32 for
 * reals. We refuse the same mismatches (a real stored as an integer, a count stored as a float, string or
 * bool) but accept any integer width for a count and FLOAT64 for a real: their values are unambiguous,
 * and the range checks here are what UINT32 would guarantee and more.
 */
final class HyperparameterKeys {
    private final GgufMetadata md;
    private final String prefix;

    HyperparameterKeys(GgufMetadata md, String arch) {
        this.md = md;
        this.prefix = arch + ".";
    }

    /** The full key of {@code name}, e.g. {@code llama.block_count}. */
    String key(String name) {
        return prefix + name;
    }

    boolean contains(String name) {
        return md.contains(key(name));
    }

    /** A required integer key, at least {@code min} and at most Integer.MAX_VALUE. */
    int count(String name, long min) {
        if (!contains(name)) throw new IllegalArgumentException("missing metadata key '" + key(name) + "'");
        return count(name, 0, min);
    }

    /** An optional integer key: {@code fallback} when absent (not range-checked: the caller's own default). */
    int count(String name, int fallback, long min) {
        GgufEntry e = md.entry(key(name)).orElse(null);
        if (e == null) return fallback;
        if (!e.type().isInteger()) throw wrongType(e, "an integer type (UINT32)");
        return inRange(e.key(), e.type(), (Long) e.value(), min);
    }

    /**
     * A count that llama.cpp lets a file give per layer (head_count, head_count_kv, feed_forward_length:
     * llama_model_loader::get_key_or_arr): a scalar, or an array of one value per block. We run models
     * whose layers agree, so an array must hold {@code layers} equal values.
     */
    int perLayerCount(String name, int layers, int fallback, long min) {
        GgufEntry e = md.entry(key(name)).orElse(null);
        if (e == null || !(e.value() instanceof GgufArray a)) return count(name, fallback, min);
        if (!a.elementType().isInteger()) {
            throw new IllegalArgumentException("key " + e.key() + " has wrong type [" + a.elementType() + "], expected an integer or an array of integers");
        }
        if (a.size() != layers) {
            throw new IllegalArgumentException("key " + e.key() + " has " + a.size() + " values, expected one per block ("
                    + key("block_count") + " = " + layers + ")");
        }
        int first = inRange(e.key() + "[0]", a.elementType(), a.getLong(0), min);
        for (int i = 1; i < layers; i++) {
            long v = a.getLong(i);
            if (v != first) {
                throw new IllegalArgumentException(e.key() + "[" + i + "] = " + display(a.elementType(), v) + ", but "
                        + e.key() + "[0] = " + first + ": layers of different sizes are not supported yet");
            }
        }
        return first;
    }

    /** An optional real key that must be finite and, when {@code positive}, above 0. */
    float real(String name, float fallback, boolean positive) {
        GgufEntry e = md.entry(key(name)).orElse(null);
        if (e == null) return fallback;
        double v = switch (e.value()) {
            case Float f -> f;
            case Double d -> d;
            default -> throw wrongType(e, "FLOAT32");
        };
        if (!Double.isFinite(v) || (positive && v <= 0) || Math.abs(v) > Float.MAX_VALUE) {
            throw invalid(name, e.displayValue(), positive ? "it must be a positive finite number" : "it must be a finite number");
        }
        return (float) v;
    }

    /** An error about key {@code name} holding {@code value}: {@code ARCH.name = value, but why}. */
    IllegalArgumentException invalid(String name, Object value, String why) {
        return new IllegalArgumentException(key(name) + " = " + value + ", but " + why);
    }

    private static int inRange(String key, GgufValueType type, long v, long min) {
        // A UINT64 above Long.MAX_VALUE arrives as a negative long: it is too large, not negative.
        boolean huge = v > Integer.MAX_VALUE || (type == GgufValueType.UINT64 && v < 0);
        if (v < min || huge) {
            throw new IllegalArgumentException(key + " = " + display(type, v) + ", but it must be "
                    + (huge ? "in [" + min + ", " + Integer.MAX_VALUE + "]" : "at least " + min));
        }
        return (int) v;
    }

    private static String display(GgufValueType type, long v) {
        return type == GgufValueType.UINT64 ? Long.toUnsignedString(v) : Long.toString(v);
    }

    private static IllegalArgumentException wrongType(GgufEntry e, String expected) {
        return new IllegalArgumentException("key " + e.key() + " has wrong type " + e.type() + " (= " + e.displayValue()
                + "), expected " + expected);
    }
}
