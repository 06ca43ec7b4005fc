package dev.panllama.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * Byte strings held as Java strings with one char per byte (ISO-8859-1). llama.cpp tokenizes raw
 * UTF-8 bytes: token texts, merge keys and substrings are compared byte for byte, and a symbol may
 * cut a multi-byte character. Keeping bytes as Latin-1 chars gives exact byte semantics together with
 * String's hashing, substring and compact storage.
 */
final class ByteText {
    private ByteText() {}

    static String of(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    static String of(byte[] bytes, int offset, int length) {
        return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
    }

    /** The UTF-8 bytes of a Java string, as a byte string. */
    static String utf8Of(String text) {
        return of(text.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] bytes(String byteText) {
        return byteText.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Decodes a byte string as UTF-8 (malformed input becomes U+FFFD). */
    static String decodeUtf8(String byteText) {
        return new String(bytes(byteText), StandardCharsets.UTF_8);
    }
}
