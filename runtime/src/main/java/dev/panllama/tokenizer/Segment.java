package dev.panllama.tokenizer;

/**
 * A window {@code [from, to)} of a code point array, read the way llama.cpp's hand-written splitters
 * read it: positions outside the window have no code point and no properties.
 */
record Segment(int[] cps, int from, int to) {
    static final int NONE = -1;

    boolean inside(int p) { return p >= from && p < to; }

    int cp(int p) { return inside(p) ? cps[p] : NONE; }

    int category(int p) { return inside(p) ? UnicodeTables.category(cps[p]) : 0; }

    boolean isLetter(int p) { return category(p) == UnicodeTables.LETTER; }

    boolean isNumber(int p) { return category(p) == UnicodeTables.NUMBER; }

    boolean isWhitespace(int p) { return inside(p) && UnicodeTables.isWhitespace(cps[p]); }

    /** Inside the window and neither whitespace, letter nor number: {@code [^\s\p{L}\p{N}]}. */
    boolean isOther(int p) { return inside(p) && !isWhitespace(p) && !isLetter(p) && !isNumber(p); }

    /** Length of the run of whitespace starting at p. */
    int whitespaceRun(int p) {
        int n = 0;
        while (isWhitespace(p + n)) n++;
        return n;
    }
}
