package dev.panllama.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of token pieces into text: a piece may end inside a multi-byte UTF-8 character
 * (byte-fallback and byte-level tokens do), so bytes are held back until the character is complete,
 * as llama.cpp's examples do before printing. Malformed bytes come out as U+FFFD rather than
 * blocking the stream. Not thread-safe; one per output stream.
 */
public final class Utf8StreamDecoder {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    /** Adds a piece and returns the text completed so far (possibly empty). */
    public String accept(byte[] piece) {
        pending.write(piece, 0, piece.length);
        byte[] bytes = pending.toByteArray();
        int complete = completePrefix(bytes);
        pending.reset();
        pending.write(bytes, complete, bytes.length - complete);
        return new String(bytes, 0, complete, StandardCharsets.UTF_8);
    }

    /** Returns whatever is held back (an unfinished character as U+FFFD) and starts afresh. */
    public String flush() {
        String rest = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return rest;
    }

    /** Bytes held back, waiting for the rest of a character. */
    public int pendingBytes() {
        return pending.size();
    }

    /** Length of the longest prefix that does not end inside an unfinished multi-byte sequence. */
    static int completePrefix(byte[] b) {
        int n = b.length;
        for (int back = 1; back <= Math.min(3, n); back++) {
            int lead = b[n - back] & 0xFF;
            if ((lead & 0xC0) == 0x80) continue;   // continuation byte: keep looking for the lead
            int needed = lead >= 0xF0 && lead <= 0xF7 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            return needed > back && lead < 0xF8 ? n - back : n;
        }
        return n;
    }
}
