package dev.panllama.tokenizer;

/**
 * UTF-8 as llama.cpp's unicode.cpp reads and writes it, which is laxer than {@link java.nio.charset}:
 * overlong forms and surrogate code points decode as they are, and a byte that does not start a
 * complete sequence becomes U+FFFD on its own (the next byte is then read afresh). Code points above
 * U+10FFFF also become U+FFFD here; llama.cpp would throw on re-encoding them.
 */
final class Utf8 {
    static final int REPLACEMENT = 0xFFFD;

    private Utf8() {}

    /** Bytes a sequence starting with this byte claims; continuation and invalid bytes count as 1 (unicode_len_utf8). */
    static int sequenceLength(int firstByte) {
        int high = (firstByte & 0xFF) >>> 4;
        if (high < 12) return 1;
        if (high < 14) return 2;
        return high == 14 ? 3 : 4;
    }

    /** The code points of a byte string. */
    static int[] decode(String bytes) {
        int n = bytes.length();
        int[] out = new int[n];
        int count = 0;
        int i = 0;
        while (i < n) {
            int b0 = bytes.charAt(i);
            int cp = -1;
            int len = 1;
            if (b0 < 0x80) {
                cp = b0;
            } else if ((b0 & 0x40) == 0) {
                cp = -1;
            } else if ((b0 & 0x20) == 0) {
                len = 2;
                if (continuations(bytes, i, 1)) cp = ((b0 & 0x1F) << 6) | (bytes.charAt(i + 1) & 0x3F);
            } else if ((b0 & 0x10) == 0) {
                len = 3;
                if (continuations(bytes, i, 2)) {
                    cp = ((b0 & 0x0F) << 12) | ((bytes.charAt(i + 1) & 0x3F) << 6) | (bytes.charAt(i + 2) & 0x3F);
                }
            } else if ((b0 & 0x08) == 0) {
                len = 4;
                if (continuations(bytes, i, 3)) {
                    cp = ((b0 & 0x07) << 18) | ((bytes.charAt(i + 1) & 0x3F) << 12)
                            | ((bytes.charAt(i + 2) & 0x3F) << 6) | (bytes.charAt(i + 3) & 0x3F);
                    if (cp > Character.MAX_CODE_POINT) cp = -1;
                }
            }
            if (cp < 0) {
                cp = REPLACEMENT;
                len = 1;
            }
            out[count++] = cp;
            i += len;
        }
        return count == n ? out : java.util.Arrays.copyOf(out, count);
    }

    private static boolean continuations(String bytes, int at, int count) {
        if (at + count >= bytes.length()) return false;
        for (int k = 1; k <= count; k++) {
            if ((bytes.charAt(at + k) & 0xC0) != 0x80) return false;
        }
        return true;
    }

    /** Appends the UTF-8 bytes of a code point to a byte string being built. */
    static void append(StringBuilder byteText, int cp) {
        if (cp < 0x80) {
            byteText.append((char) cp);
        } else if (cp < 0x800) {
            byteText.append((char) (0xC0 | (cp >> 6))).append((char) (0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            byteText.append((char) (0xE0 | (cp >> 12))).append((char) (0x80 | ((cp >> 6) & 0x3F)))
                    .append((char) (0x80 | (cp & 0x3F)));
        } else {
            byteText.append((char) (0xF0 | (cp >> 18))).append((char) (0x80 | ((cp >> 12) & 0x3F)))
                    .append((char) (0x80 | ((cp >> 6) & 0x3F))).append((char) (0x80 | (cp & 0x3F)));
        }
    }

    static String encode(int cp) {
        StringBuilder sb = new StringBuilder(4);
        append(sb, cp);
        return sb.toString();
    }

    /** The byte string of code points {@code [from, to)}. */
    static String encode(int[] cps, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from);
        for (int i = from; i < to; i++) append(sb, cps[i]);
        return sb.toString();
    }
}
