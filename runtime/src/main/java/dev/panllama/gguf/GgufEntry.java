package dev.panllama.gguf;

/**
 * One metadata key/value pair. Scalars are boxed: integers of every width as {@link Long} (unsigned
 * types zero-extended; a UINT64 above Long.MAX_VALUE stays as its two's-complement bits), FLOAT32 as
 * {@link Float}, FLOAT64 as {@link Double}, BOOL as {@link Boolean}, STRING as {@link String} and
 * ARRAY as {@link GgufArray}.
 *
 * @param offset the byte offset of the key in its file, or -1 for entries not read from a file
 */
public record GgufEntry(String key, GgufValueType type, Object value, long offset) {

    /** The value in the style of gguf_dump: strings quoted, u64 unsigned. */
    public String displayValue() {
        return switch (value) {
            case String s -> "'" + s + "'";
            case Long l when type == GgufValueType.UINT64 -> Long.toUnsignedString(l);
            default -> String.valueOf(value);
        };
    }
}
