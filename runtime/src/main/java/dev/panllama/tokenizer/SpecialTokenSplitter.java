package dev.panllama.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts special-token texts out of the input before tokenization (llama.cpp's tokenizer_st_partition).
 * Special tokens are taken longest first; each one splits every remaining text fragment at all its
 * occurrences. Without parse_special, control and unknown tokens stay text, but user-defined tokens
 * are still cut out (as Hugging Face tokenizers do). LSTRIP/RSTRIP tokens eat the ASCII whitespace
 * beside them.
 */
final class SpecialTokenSplitter {
    /** A token, or the text {@code [offset, offset + length)} of the input. */
    record Fragment(int token, int offset, int length) {
        static Fragment text(int offset, int length) { return new Fragment(Vocab.NULL, offset, length); }

        boolean isText() { return token == Vocab.NULL; }
    }

    private SpecialTokenSplitter() {}

    static List<Fragment> split(Vocab v, String input, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (input.isEmpty()) return fragments;
        fragments.add(Fragment.text(0, input.length()));
        for (int id : v.specialTokens) {
            if (!parseSpecial && v.has(id, TokenAttr.CONTROL | TokenAttr.UNKNOWN)) continue;
            String text = v.texts[id];
            List<Fragment> next = new ArrayList<>(fragments.size() + 4);
            for (Fragment f : fragments) {
                if (f.isText()) cut(v, id, text, input, f, next);
                else next.add(f);
            }
            fragments = next;
        }
        return fragments;
    }

    private static void cut(Vocab v, int id, String text, String input, Fragment f, List<Fragment> out) {
        int base = f.offset();
        int end = f.offset() + f.length();
        while (true) {
            int match = base < end ? input.indexOf(text, base, end) : -1;
            if (match < 0) {
                if (end > base) out.add(Fragment.text(base, end - base));
                return;
            }
            int leftEnd = match;
            if (v.has(id, TokenAttr.LSTRIP)) {
                while (leftEnd > base && isSpace(input.charAt(leftEnd - 1))) leftEnd--;
            }
            if (leftEnd > base) out.add(Fragment.text(base, leftEnd - base));
            out.add(new Fragment(id, 0, 0));
            base = match + text.length();
            if (v.has(id, TokenAttr.RSTRIP)) {
                while (base < end && isSpace(input.charAt(base))) base++;
            }
        }
    }

    /** C's isspace in the "C" locale. */
    private static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
