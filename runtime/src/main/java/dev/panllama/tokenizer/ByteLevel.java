package dev.panllama.tokenizer;

/**
 * GPT-2's reversible byte-to-character mapping, used by byte-level BPE vocabularies: the printable
 * bytes {@code !..~}, {@code ¡..¬} and {@code ®..ÿ} stand for themselves, the 68 others are given the
 * code points from U+0100 upwards in byte order (so space is Ġ U+0120 and newline Ċ U+010A).
 */
final class ByteLevel {
    private static final int[] BYTE_TO_CP = new int[256];
    private static final int[] CP_TO_BYTE = new int[0x100 + 68];
    /** The UTF-8 byte string of each byte's character. */
    private static final String[] BYTE_TO_TEXT = new String[256];

    static {
        java.util.Arrays.fill(CP_TO_BYTE, -1);
        int next = 0x100;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            int cp = printable ? b : next++;
            BYTE_TO_CP[b] = cp;
            CP_TO_BYTE[cp] = b;
            BYTE_TO_TEXT[b] = Utf8.encode(cp);
        }
    }

    private ByteLevel() {}

    /** The byte-level form of a byte string: each byte replaced by its character's UTF-8. */
    static String encode(String bytes) {
        StringBuilder sb = new StringBuilder(bytes.length() * 2);
        for (int i = 0; i < bytes.length(); i++) sb.append(BYTE_TO_TEXT[bytes.charAt(i)]);
        return sb.toString();
    }

    /** The byte a mapped code point stands for, or -1. */
    static int byteOf(int cp) {
        return cp >= 0 && cp < CP_TO_BYTE.length ? CP_TO_BYTE[cp] : -1;
    }

    /** The UTF-8 byte string of the character that stands for byte b. */
    static String textOf(int b) {
        return BYTE_TO_TEXT[b & 0xFF];
    }
}
