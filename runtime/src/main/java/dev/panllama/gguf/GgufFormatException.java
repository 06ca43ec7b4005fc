package dev.panllama.gguf;

import java.io.IOException;

/**
 * A GGUF file is malformed, truncated, hostile or of an unsupported kind. The one-line message names
 * the file, the byte offset and the field, e.g.
 * {@code model.gguf: at byte 24 (kv[3].key): string length 9999999 exceeds the 12 bytes left in the file}.
 */
public final class GgufFormatException extends IOException {
    private final String file;
    private final long offset;
    private final String field;

    public GgufFormatException(String file, long offset, String field, String problem) {
        super(file + ": at byte " + offset + " (" + field + "): " + problem);
        this.file = file;
        this.offset = offset;
        this.field = field;
    }

    /** A problem with the file as a whole (e.g. a missing split part), not at one field. */
    public GgufFormatException(String file, String problem) {
        super(file + ": " + problem);
        this.file = file;
        this.offset = -1;
        this.field = null;
    }

    public String file() { return file; }

    /** Byte offset of the offending field, or -1 when the problem is not at one place. */
    public long offset() { return offset; }

    public String field() { return field; }
}
