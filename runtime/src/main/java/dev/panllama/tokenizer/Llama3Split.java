package dev.panllama.tokenizer;

/**
 * The Llama-3 (cl100k) pre-tokenizer regex
 * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}
 * evaluated by hand over Unicode properties, as llama.cpp does for it (unicode_regex_split_custom_llama3).
 */
final class Llama3Split extends HandWrittenSplit {
    private static boolean isCrLf(int c) {
        return c == '\r' || c == '\n';
    }

    @Override
    int matchAt(Segment seg, int pos) {
        int c = seg.cp(pos);
        if (c == '\'' && pos + 1 < seg.to()) {
            int c1 = UnicodeTables.toLower(seg.cp(pos + 1));
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return pos + 2;
            if (pos + 2 < seg.to()) {
                int c2 = UnicodeTables.toLower(seg.cp(pos + 2));
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return pos + 3;
            }
        }
        if (!isCrLf(c) && !seg.isNumber(pos) && (seg.isLetter(pos) || seg.isLetter(pos + 1))) {
            int p = pos + 1;
            while (seg.isLetter(p)) p++;
            return p;
        }
        if (seg.isNumber(pos)) {
            int p = pos;
            while (p - pos < 3 && seg.isNumber(p)) p++;
            return p;
        }
        int body = c == ' ' ? pos + 1 : pos;
        if (seg.isOther(body)) {
            int p = body;
            while (seg.isOther(p)) p++;
            while (isCrLf(seg.cp(p))) p++;
            return p;
        }
        int spaces = seg.whitespaceRun(pos);
        int afterLastNewline = -1;
        for (int k = 0; k < spaces; k++) {
            if (isCrLf(seg.cp(pos + k))) afterLastNewline = pos + k + 1;
        }
        if (afterLastNewline > 0) return afterLastNewline;                   // \s*[\r\n]+
        if (spaces > 1 && seg.inside(pos + spaces)) return pos + spaces - 1;  // \s+(?!\S)
        if (spaces > 0) return pos + spaces;
        return pos + 1;
    }
}
