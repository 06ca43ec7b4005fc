package dev.panllama.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One pre-tokenizer regex, run the way llama.cpp runs the ones it has no hand-written code for
 * (unicode_regex_split with std::regex): matches and the stretches between them become pieces.
 *
 * <p>std::regex knows no Unicode categories, so llama.cpp "collapses" the text when the regex uses
 * {@code \p{N} \p{L} \p{P} \p{M} \p{S}}: every code point becomes one char, ASCII as itself, other
 * whitespace as {@code \v}, and other code points as a placeholder for their category; each
 * {@code \p{X}} becomes a class of that placeholder plus the ASCII members llama.cpp lists for it.
 * These ASCII lists are llama.cpp's, not Unicode's ({@code ~} is not in its \p{S}). Regexes without
 * categories run over the code points, with non-ASCII whitespace again as {@code \v}. Like
 * std::regex's default traits, {@code \s} is ASCII whitespace and {@code $} means the end of the segment.
 */
final class RegexSplit implements SplitPass {
    private static final char OTHER = '\u00D0';
    private static final String[] CATEGORY_NAMES = {"\\p{N}", "\\p{L}", "\\p{P}", "\\p{M}", "\\p{S}"};
    private static final int[] CATEGORY_FLAGS = {UnicodeTables.NUMBER, UnicodeTables.LETTER,
            UnicodeTables.PUNCTUATION, UnicodeTables.MARK, UnicodeTables.SYMBOL};
    private static final char[] PLACEHOLDERS = {'\u00D1', '\u00D2', '\u00D3', '\u00D4', '\u00D5'};
    private static final String[] ASCII_MEMBERS = {"0-9", "A-Za-z", "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}", "", "\\$\\+<->^`\\|"};

    private final String source;
    private final Pattern pattern;
    private final boolean collapsed;

    RegexSplit(String llamaRegex) {
        source = llamaRegex;
        collapsed = usesCategories(llamaRegex);
        String ecma = collapsed ? collapseCategories(llamaRegex) : llamaRegex;
        try {
            pattern = Pattern.compile(toJavaSyntax(ecma));
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("pre-tokenizer regex " + llamaRegex + " cannot be compiled: " + e.getDescription(), e);
        }
    }

    private static boolean usesCategories(String regex) {
        for (String name : CATEGORY_NAMES) if (regex.contains(name)) return true;
        return false;
    }

    /** Replaces each {@code \p{X}} by its placeholder class (inside a class: by the class's members). */
    private static String collapseCategories(String regex) {
        if (regex.chars().anyMatch(c -> c >= 128)) {
            throw new IllegalArgumentException("pre-tokenizer regex mixes Unicode categories and non-ASCII characters: " + regex);
        }
        StringBuilder out = new StringBuilder(regex.length() * 2);
        boolean inClass = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '[' && (i == 0 || regex.charAt(i - 1) != '\\')) {
                out.append('[');
                inClass = true;
                continue;
            }
            if (inClass && c == ']' && regex.charAt(i - 1) != '\\') {
                out.append(']');
                inClass = false;
                continue;
            }
            int category = c == '\\' && i + 4 < regex.length() ? categoryIndex(regex.substring(i, i + 5)) : -1;
            if (category >= 0) {
                if (!inClass) out.append('[');
                out.append(PLACEHOLDERS[category]).append(ASCII_MEMBERS[category]);
                if (!inClass) out.append(']');
                i += 4;
                continue;
            }
            out.append(c);
        }
        return out.toString();
    }

    private static int categoryIndex(String token) {
        for (int k = 0; k < CATEGORY_NAMES.length; k++) if (CATEGORY_NAMES[k].equals(token)) return k;
        return -1;
    }

    /**
     * ECMAScript to java.util.regex: inside a class, '[' and '&' are literals in ECMAScript but
     * operators in Java; outside, '$' must match only at the end of the segment, never before a
     * final line break.
     */
    private static String toJavaSyntax(String ecma) {
        StringBuilder out = new StringBuilder(ecma.length() + 8);
        boolean inClass = false;
        for (int i = 0; i < ecma.length(); i++) {
            char c = ecma.charAt(i);
            if (c == '\\' && i + 1 < ecma.length()) {
                out.append(c).append(ecma.charAt(++i));
            } else if (inClass) {
                if (c == ']') inClass = false;
                out.append(c == '[' ? "\\[" : c == '&' ? "\\&" : String.valueOf(c));
            } else if (c == '[') {
                inClass = true;
                out.append(c);
                if (i + 1 < ecma.length() && ecma.charAt(i + 1) == '^') out.append(ecma.charAt(++i));
            } else {
                out.append(c == '$' ? "\\z" : String.valueOf(c));
            }
        }
        return out.toString();
    }

    @Override
    public IntList split(int[] cps, IntList segments) {
        // charAt[k] = index in the subject of code point k (the subject may hold surrogate pairs)
        int[] charAt = new int[cps.length + 1];
        String subject = collapsed ? collapsedText(cps, charAt) : codePointText(cps, charAt);
        int[] cpAt = collapsed ? null : invert(charAt, subject.length());
        Matcher m = pattern.matcher(subject);
        IntList pieces = new IntList(segments.size() * 4);
        int start = 0;
        for (int s = 0; s < segments.size(); s++) {
            int end = start + segments.get(s);
            m.region(charAt[start], charAt[end]);
            int last = start;
            while (m.find()) {
                int ms = collapsed ? m.start() : cpAt[m.start()];
                int me = collapsed ? m.end() : cpAt[m.end()];
                if (ms > last) pieces.add(ms - last);
                if (me > ms) pieces.add(me - ms);
                last = me;
            }
            if (last < end) pieces.add(end - last);
            start = end;
        }
        return pieces;
    }

    private static String collapsedText(int[] cps, int[] charAt) {
        char[] text = new char[cps.length];
        for (int i = 0; i < cps.length; i++) {
            int cp = cps[i];
            charAt[i] = i;
            if (cp < 128) {
                text[i] = (char) cp;
            } else if (UnicodeTables.isWhitespace(cp)) {
                text[i] = '\u000B';
            } else {
                text[i] = placeholderOf(UnicodeTables.category(cp));
            }
        }
        charAt[cps.length] = cps.length;
        return new String(text);
    }

    private static char placeholderOf(int category) {
        for (int k = 0; k < CATEGORY_FLAGS.length; k++) if (CATEGORY_FLAGS[k] == category) return PLACEHOLDERS[k];
        return OTHER;
    }

    private static String codePointText(int[] cps, int[] charAt) {
        StringBuilder sb = new StringBuilder(cps.length + 16);
        for (int i = 0; i < cps.length; i++) {
            charAt[i] = sb.length();
            int cp = cps[i];
            if (cp > 0x7F && UnicodeTables.isWhitespace(cp)) {
                cp = 0x0B;
            } else if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) {
                cp = Utf8.REPLACEMENT;   // a lone surrogate must not pair up with its neighbour in a Java string
            }
            sb.appendCodePoint(cp);
        }
        charAt[cps.length] = sb.length();
        return sb.toString();
    }

    private static int[] invert(int[] charAt, int length) {
        int[] cpAt = new int[length + 1];
        for (int k = 0; k + 1 < charAt.length; k++) {
            for (int c = charAt[k]; c < charAt[k + 1]; c++) cpAt[c] = k;
        }
        cpAt[length] = charAt.length - 1;
        return cpAt;
    }

    @Override
    public String toString() {
        return source;
    }
}
