package dev.panllama.tokenizer;

/**
 * The text piece of each token, as llama.cpp's token_to_piece renders it with special=true (and caches
 * at load): control, unknown and user-defined tokens as their text; normal SPM/WPM tokens with
 * U+2581 turned back into spaces; byte tokens {@code <0xXX>} as that raw byte; normal BPE tokens
 * mapped back from GPT-2's byte characters. Other token types (unused, undefined) render as nothing.
 */
final class PieceRenderer {
    /** U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's space, as UTF-8 bytes. */
    static final String SPACE_MARK = "\u00E2\u0096\u0081";

    private PieceRenderer() {}

    static String[] renderAll(Vocab v) {
        String[] pieces = new String[v.size()];
        for (int id = 0; id < pieces.length; id++) pieces[id] = render(v, id);
        return pieces;
    }

    private static String render(Vocab v, int id) {
        String text = v.texts[id];
        if (v.has(id, TokenAttr.UNKNOWN | TokenAttr.CONTROL | TokenAttr.USER_DEFINED)) return text;
        if (v.type == VocabType.BPE) {
            return v.has(id, TokenAttr.NORMAL) ? fromByteLevel(text) : "";
        }
        if (v.has(id, TokenAttr.NORMAL)) return text.replace(SPACE_MARK, " ");
        if (v.has(id, TokenAttr.BYTE)) return String.valueOf((char) byteOf(text));
        return "";
    }

    /** The byte a {@code <0xXX>} token stands for: the hex digits at offset 3, read like strtol. */
    private static int byteOf(String text) {
        int value = 0;
        for (int k = 3; k < Math.min(5, text.length()); k++) {
            int d = Character.digit(text.charAt(k), 16);
            if (d < 0) break;
            value = value * 16 + d;
        }
        return value;
    }

    /**
     * Maps each character of a byte-level token back to its byte. A character outside GPT-2's table
     * becomes {@code [UNK_BYTE_0x<its utf-8 hex><token text>]}, llama.cpp's marker (llama_decode_text).
     */
    static String fromByteLevel(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int cp : Utf8.decode(text)) {
            int b = ByteLevel.byteOf(cp);
            if (b >= 0) {
                out.append((char) b);
            } else {
                out.append("[UNK_BYTE_0x");
                for (char c : Utf8.encode(cp).toCharArray()) out.append(String.format("%02x", (int) c));
                out.append(text).append(']');
            }
        }
        return out.toString();
    }
}
