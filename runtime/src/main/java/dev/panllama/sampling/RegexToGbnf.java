package dev.panllama.sampling;

import java.util.ArrayList;
import java.util.List;

/**
 * A JSON schema {@code pattern} (an ECMAScript regular expression) as a GBNF expression for a string's
 * characters, as llama.cpp's converter does for the common subset: literals, {@code .}, classes with
 * ranges, negation and {@code \d \w \s}, groups ({@code (...)}, {@code (?:...)}), alternation, and the
 * quantifiers {@code * + ? {m} {m,} {m,n}}. The pattern must be anchored ({@code ^...$}): a schema's
 * pattern matches anywhere in the string, and an unanchored one would allow any text around it.
 */
final class RegexToGbnf {
    private final String re;
    private final String where;
    private int pos;

    private RegexToGbnf(String re, String where) {
        this.re = re;
        this.where = where;
    }

    static String convert(String pattern, String where) {
        if (!pattern.startsWith("^") || !pattern.endsWith("$") || pattern.endsWith("\\$")) {
            throw new IllegalArgumentException("JSON schema at " + where + ": pattern '" + pattern + "' must be anchored with ^ and $");
        }
        RegexToGbnf c = new RegexToGbnf(pattern.substring(1, pattern.length() - 1), where);
        String expr = c.alternation();
        if (c.pos != c.re.length()) throw c.error("unexpected '" + c.re.charAt(c.pos) + "'");
        return "(" + expr + ")";
    }

    private String alternation() {
        List<String> alts = new ArrayList<>();
        alts.add(sequence());
        while (pos < re.length() && re.charAt(pos) == '|') {
            pos++;
            alts.add(sequence());
        }
        return alts.size() == 1 ? alts.getFirst() : "(" + String.join(" | ", alts) + ")";
    }

    private String sequence() {
        StringBuilder sb = new StringBuilder();
        while (pos < re.length() && re.charAt(pos) != '|' && re.charAt(pos) != ')') {
            String atom = atom();
            atom += quantifier();
            if (!sb.isEmpty()) sb.append(' ');
            sb.append(atom);
        }
        return sb.isEmpty() ? "\"\"" : sb.toString();
    }

    private String atom() {
        char c = re.charAt(pos);
        switch (c) {
            case '(' -> {
                pos++;
                if (re.startsWith("?:", pos)) pos += 2;
                else if (pos < re.length() && re.charAt(pos) == '?') throw error("lookarounds and named groups are not supported");
                String inner = alternation();
                if (pos >= re.length() || re.charAt(pos) != ')') throw error("expected ')'");
                pos++;
                return "(" + inner + ")";
            }
            case '[' -> {
                return charClass();
            }
            case '.' -> {
                pos++;
                return "[^\"\\\\\\x00-\\x1F\\x7F]";
            }
            case '\\' -> {
                return escape(false);
            }
            case '*', '+', '?', '{' -> throw error("'" + c + "' with nothing to repeat");
            case '^', '$' -> throw error("anchors only at the pattern's ends");
            default -> {
                int cp = re.codePointAt(pos);
                pos += Character.charCount(cp);
                return literal(cp);
            }
        }
    }

    private String quantifier() {
        if (pos >= re.length()) return "";
        char c = re.charAt(pos);
        String q = switch (c) {
            case '*', '+', '?' -> {
                pos++;
                yield String.valueOf(c);
            }
            case '{' -> {
                int end = re.indexOf('}', pos);
                if (end < 0) throw error("unterminated {m,n}");
                String body = re.substring(pos + 1, end);
                if (!body.matches("\\d{1,4}(,\\d{0,4})?")) throw error("bad repetition {" + body + "}");
                pos = end + 1;
                yield "{" + body + "}";
            }
            default -> "";
        };
        if (!q.isEmpty() && pos < re.length() && re.charAt(pos) == '?') pos++;     // lazy: the same set of strings
        return q;
    }

    private String charClass() {
        pos++;
        boolean negated = pos < re.length() && re.charAt(pos) == '^';
        if (negated) pos++;
        StringBuilder sb = new StringBuilder("[").append(negated ? "^" : "");
        boolean first = true;
        while (pos < re.length() && (re.charAt(pos) != ']' || first)) {
            first = false;
            if (re.charAt(pos) == '\\') {
                String e = escape(true);
                sb.append(e);
            } else {
                int cp = re.codePointAt(pos);
                pos += Character.charCount(cp);
                if (cp == '-' && sb.length() > 1 && pos < re.length() && re.charAt(pos) != ']') sb.append('-');
                else sb.append(classChar(cp));
            }
        }
        if (pos >= re.length()) throw error("unterminated character class");
        pos++;
        if (negated) sb.append("\"\\\\\\x00-\\x1F\\x7F");       // a JSON string's raw characters stay out
        return sb.append(']').toString();
    }

    /** An escape: a class (\d \w \s), or an escaped character; inside a class, the bare ranges. */
    private String escape(boolean inClass) {
        if (pos + 1 >= re.length()) throw error("an escape at the end");
        char e = re.charAt(pos + 1);
        pos += 2;
        String ranges = switch (e) {
            case 'd' -> "0-9";
            case 'w' -> "a-zA-Z0-9_";
            case 's' -> " \\t\\n\\r";
            default -> null;
        };
        if (ranges != null) return inClass ? ranges : "[" + ranges + "]";
        if (e == 'D' || e == 'W' || e == 'S' || e == 'b' || e == 'B') throw error("'\\" + e + "' is not supported");
        int cp = switch (e) {
            case 'n' -> '\n';
            case 't' -> '\t';
            case 'r' -> '\r';
            default -> e;
        };
        return inClass ? classChar(cp) : literal(cp);
    }

    private static String literal(int cp) {
        return "[" + classChar(cp) + "]";
    }

    private static String classChar(int cp) {
        if (cp == '\\' || cp == ']' || cp == '[' || cp == '-' || cp == '^' || cp == '"') return "\\" + (char) cp;
        if (cp == '\n') return "\\n";
        if (cp == '\t') return "\\t";
        if (cp == '\r') return "\\r";
        if (cp < 0x20) return String.format("\\x%02X", cp);
        return new String(Character.toChars(cp));
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("JSON schema at " + where + ": pattern, at " + pos + ": " + what);
    }
}
