package dev.panllama.tokenizer;

import java.text.Normalizer;

/**
 * The Unicode properties llama.cpp's tokenizers consult (unicode.h / unicode-data.cpp): one general
 * category flag per code point, the White_Space set, simple lowercase mapping and the first code
 * point of the NFD decomposition.
 *
 * <p>llama.cpp generated its tables from Unicode 15.1 data; the JDK knows a newer Unicode. So the JDK
 * answers, except for the characters Unicode 16.0 added (DerivedAge.txt, "16.0"), which llama.cpp sees
 * as unassigned: no category, no case mapping, no decomposition. Checked against llama.cpp c392e50's
 * unicode-data.cpp: with that exception, categories, lowercase and NFD agree for every code point.
 */
final class UnicodeTables {
    static final int UNDEFINED = 0x01;
    static final int NUMBER = 0x02;
    static final int LETTER = 0x04;
    static final int SEPARATOR = 0x08;
    static final int MARK = 0x10;
    static final int PUNCTUATION = 0x20;
    static final int SYMBOL = 0x40;
    static final int CONTROL = 0x80;

    /** Inclusive ranges of the code points assigned in Unicode 16.0 (DerivedAge.txt). */
    private static final int[] UNICODE_16_ADDITIONS = {
            0x897, 0x897, 0x1B4E, 0x1B4F, 0x1B7F, 0x1B7F, 0x1C89, 0x1C8A,
            0x2427, 0x2429, 0x31E4, 0x31E5, 0xA7CB, 0xA7CD, 0xA7DA, 0xA7DC,
            0x105C0, 0x105F3, 0x10D40, 0x10D65, 0x10D69, 0x10D85, 0x10D8E, 0x10D8F,
            0x10EC2, 0x10EC4, 0x10EFC, 0x10EFC, 0x11380, 0x11389, 0x1138B, 0x1138B,
            0x1138E, 0x1138E, 0x11390, 0x113B5, 0x113B7, 0x113C0, 0x113C2, 0x113C2,
            0x113C5, 0x113C5, 0x113C7, 0x113CA, 0x113CC, 0x113D5, 0x113D7, 0x113D8,
            0x113E1, 0x113E2, 0x116D0, 0x116E3, 0x11BC0, 0x11BE1, 0x11BF0, 0x11BF9,
            0x11F5A, 0x11F5A, 0x13460, 0x143FA, 0x16100, 0x16139, 0x16D40, 0x16D79,
            0x18CFF, 0x18CFF, 0x1CC00, 0x1CCF9, 0x1CD00, 0x1CEB3, 0x1E5D0, 0x1E5FA,
            0x1E5FF, 0x1E5FF, 0x1F8B2, 0x1F8BB, 0x1F8C0, 0x1F8C1, 0x1FA89, 0x1FA89,
            0x1FA8F, 0x1FA8F, 0x1FABE, 0x1FABE, 0x1FAC6, 0x1FAC6, 0x1FADC, 0x1FADC,
            0x1FADF, 0x1FADF, 0x1FAE9, 0x1FAE9, 0x1FBCB, 0x1FBEF,
    };

    private static final byte[] CATEGORY = buildCategories();

    private UnicodeTables() {}

    private static byte[] buildCategories() {
        byte[] table = new byte[Character.MAX_CODE_POINT + 1];
        for (int cp = 0; cp < table.length; cp++) table[cp] = (byte) categoryOf(Character.getType(cp));
        for (int i = 0; i < UNICODE_16_ADDITIONS.length; i += 2) {
            for (int cp = UNICODE_16_ADDITIONS[i]; cp <= UNICODE_16_ADDITIONS[i + 1]; cp++) table[cp] = UNDEFINED;
        }
        return table;
    }

    private static int categoryOf(int javaType) {
        return switch (javaType) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> MARK;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            case Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.CONNECTOR_PUNCTUATION, Character.OTHER_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL -> SYMBOL;
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> CONTROL;
            default -> UNDEFINED;
        };
    }

    private static boolean isUnicode16Addition(int cp) {
        return cp >= 0x897 && CATEGORY[cp] == UNDEFINED && Character.getType(cp) != Character.UNASSIGNED;
    }

    /** The category flag of a code point; 0 outside the code space (llama.cpp's "no flags"). */
    static int category(int cp) {
        return cp >= 0 && cp < CATEGORY.length ? CATEGORY[cp] & 0xFF : 0;
    }

    static boolean isLetter(int cp) { return category(cp) == LETTER; }

    static boolean isNumber(int cp) { return category(cp) == NUMBER; }

    /** Unicode White_Space (PropList.txt), the set llama.cpp uses for {@code \s}. */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    /** Simple lowercase mapping (UnicodeData.txt field 13). */
    static int toLower(int cp) {
        if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
        if (cp > Character.MAX_CODE_POINT || isUnicode16Addition(cp)) return cp;
        return Character.toLowerCase(cp);
    }

    /** The first code point of the canonical decomposition (what llama.cpp's NFD step keeps). */
    static int nfdFirst(int cp) {
        if (cp < 0xC0 || cp > Character.MAX_CODE_POINT || (cp >= 0xD800 && cp <= 0xDFFF) || isUnicode16Addition(cp)) return cp;
        String s = Character.toString(cp);
        if (Normalizer.isNormalized(s, Normalizer.Form.NFD)) return cp;
        return Normalizer.normalize(s, Normalizer.Form.NFD).codePointAt(0);
    }
}
