package dev.panllama.tokenizer;

/**
 * The GPT-2 pre-tokenizer regex {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)}
 * evaluated by hand over Unicode properties, as llama.cpp does for exactly this expression instead of
 * running std::regex (unicode_regex_split_custom_gpt2). Text the regex would leave unmatched comes out
 * one code point at a time.
 */
final class Gpt2Split extends HandWrittenSplit {
    /** End of the piece that starts at pos. */
    @Override
    int matchAt(Segment seg, int pos) {
        int c = seg.cp(pos);
        if (c == '\'' && pos + 1 < seg.to()) {
            int c1 = seg.cp(pos + 1);
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return pos + 2;
            if (pos + 2 < seg.to()) {
                int c2 = seg.cp(pos + 2);
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return pos + 3;
            }
        }
        int body = c == ' ' ? pos + 1 : pos;   // an optional leading space joins letters, digits or symbols
        if (seg.isLetter(body)) {
            int p = body;
            while (seg.isLetter(p)) p++;
            return p;
        }
        if (seg.isNumber(body)) {
            int p = body;
            while (seg.isNumber(p)) p++;
            return p;
        }
        if (seg.isOther(body)) {
            int p = body;
            while (seg.isOther(p)) p++;
            return p;
        }
        int spaces = seg.whitespaceRun(pos);
        if (spaces > 1 && seg.inside(pos + spaces)) return pos + spaces - 1;   // \s+(?!\S): leave one for the next word
        if (spaces > 0) return pos + spaces;
        return pos + 1;
    }
}
