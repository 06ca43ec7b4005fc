package dev.panllama.sampling;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A grammar in llama.cpp's GBNF (grammars/README.md): {@code name ::= alternatives} rules; string
 * literals with C escapes ({@code \n \t \r \\ \" \xHH \\uHHHH \UHHHHHHHH}); character classes
 * {@code [a-z]}, {@code [^"\\]}; {@code .} for any character; groups; the repetitions {@code * + ?}
 * and {@code {m}}, {@code {m,}}, {@code {m,n}}; {@code #} comments. A rule ends at a newline unless
 * the line ends with {@code ::=} or {@code |} or is inside a group. The start rule is {@code root}.
 *
 * <p>Compiled as llama.cpp compiles it: each rule is a list of alternatives, each a sequence of
 * character sets and rule references; repetitions and groups become generated rules
 * ({@code x*} is {@code R ::= x R |}). {@link GrammarMatcher} runs it.
 */
public final class Grammar {
    /** One element of an alternative: a set of code points, or a reference to a rule. */
    sealed interface Element {}

    /** Code points in any of the ranges ({@code [lo0, hi0, lo1, hi1, ...]}, inclusive), or not in any when negated. */
    record CharSet(int[] ranges, boolean negated) implements Element {
        boolean matches(int cp) {
            boolean in = false;
            for (int i = 0; i < ranges.length && !in; i += 2) in = cp >= ranges[i] && cp <= ranges[i + 1];
            return in != negated;
        }

        /** Whether some code point in [lo, hi] matches (a partial UTF-8 character could still become it). */
        boolean matchesSome(int lo, int hi) {
            if (!negated) {
                for (int i = 0; i < ranges.length; i += 2) if (ranges[i] <= hi && ranges[i + 1] >= lo) return true;
                return false;
            }
            // Negated: some code point of [lo, hi] outside every range.
            int cp = lo;
            boolean moved = true;
            while (cp <= hi && moved) {
                moved = false;
                for (int i = 0; i < ranges.length; i += 2) {
                    if (cp >= ranges[i] && cp <= ranges[i + 1]) {
                        cp = ranges[i + 1] + 1;
                        moved = true;
                    }
                }
            }
            return cp <= hi;
        }
    }

    record RuleRef(int rule) implements Element {}

    /** The most rules a grammar may compile to (repetitions generate some): a bound on hostile input. */
    static final int MAX_RULES = 100_000;

    private final List<List<Element[]>> rules;
    private final List<String> names;
    private final int root;

    private Grammar(List<List<Element[]>> rules, List<String> names, int root) {
        this.rules = rules;
        this.names = names;
        this.root = root;
    }

    int root() { return root; }

    List<Element[]> alternatives(int rule) { return rules.get(rule); }

    int ruleCount() { return rules.size(); }

    String ruleName(int rule) { return names.get(rule); }

    /** Parses GBNF; the error names the line and column and what was expected. */
    public static Grammar parse(String gbnf) {
        Parser p = new Parser(gbnf);
        p.parseRules();
        return p.finish();
    }

    private static final class Parser {
        private final String src;
        private int pos;
        private final List<List<Element[]>> rules = new ArrayList<>();
        private final List<String> names = new ArrayList<>();
        private final Map<String, Integer> ids = new HashMap<>();
        private final Map<String, Integer> definedAt = new LinkedHashMap<>();
        private final Map<String, Integer> firstUse = new HashMap<>();

        Parser(String src) {
            this.src = src;
        }

        Grammar finish() {
            for (var e : firstUse.entrySet()) {
                if (!definedAt.containsKey(e.getKey())) throw error(e.getValue(), "rule '" + e.getKey() + "' is used but never defined");
            }
            Integer root = ids.get("root");
            if (root == null || !definedAt.containsKey("root")) throw new IllegalArgumentException("grammar: no 'root' rule");
            Grammar g = new Grammar(rules, names, root);
            LeftRecursion.check(g);
            return g;
        }

        void parseRules() {
            skipSpace(true);
            while (pos < src.length()) {
                int start = pos;
                String name = name();
                skipSpace(false);
                if (!src.startsWith("::=", pos)) throw error(pos, "expected '::=' after rule name '" + name + "'");
                pos += 3;
                skipSpace(true);
                if (definedAt.containsKey(name)) throw error(start, "rule '" + name + "' is defined twice");
                definedAt.put(name, start);
                int id = id(name);
                rules.set(id, alternates(name, false));
                if (pos < src.length() && src.charAt(pos) != '\n' && src.charAt(pos) != '\r') {
                    throw error(pos, "expected the end of the rule, found '" + src.charAt(pos) + "'");
                }
                skipSpace(true);
            }
        }

        private int id(String name) {
            Integer id = ids.get(name);
            if (id != null) return id;
            if (rules.size() >= MAX_RULES) throw new IllegalArgumentException("grammar: more than " + MAX_RULES + " rules");
            id = rules.size();
            ids.put(name, id);
            names.add(name);
            rules.add(null);
            return id;
        }

        private int generated(String base, List<Element[]> alternatives) {
            int id = id(base + "_" + rules.size());
            rules.set(id, alternatives);
            definedAt.put(names.get(id), pos);
            return id;
        }

        private List<Element[]> alternates(String rule, boolean nested) {
            List<Element[]> alts = new ArrayList<>();
            alts.add(sequence(rule, nested));
            while (pos < src.length() && src.charAt(pos) == '|') {
                pos++;
                skipSpace(true);
                alts.add(sequence(rule, nested));
            }
            return alts;
        }

        private Element[] sequence(String rule, boolean nested) {
            List<Element> seq = new ArrayList<>();
            int lastStart = -1;          // where the last item's elements begin in seq, for a repetition
            while (pos < src.length()) {
                char c = src.charAt(pos);
                if (c == '"') {
                    lastStart = seq.size();
                    pos++;
                    while (true) {
                        if (pos >= src.length()) throw error(pos, "unterminated string literal");
                        if (src.charAt(pos) == '"') break;
                        int cp = character();
                        seq.add(new CharSet(new int[]{cp, cp}, false));
                    }
                    pos++;
                    skipSpace(nested);
                } else if (c == '[') {
                    lastStart = seq.size();
                    seq.add(charClass());
                    skipSpace(nested);
                } else if (c == '.') {
                    lastStart = seq.size();
                    pos++;
                    seq.add(new CharSet(new int[]{0, 0x10FFFF}, false));
                    skipSpace(nested);
                } else if (c == '(') {
                    pos++;
                    skipSpace(true);
                    List<Element[]> group = alternates(rule, true);
                    if (pos >= src.length() || src.charAt(pos) != ')') throw error(pos, "expected ')'");
                    pos++;
                    lastStart = seq.size();
                    seq.add(new RuleRef(generated(rule, group)));
                    skipSpace(nested);
                } else if (isNameChar(c)) {
                    int at = pos;
                    String ref = name();
                    firstUse.putIfAbsent(ref, at);
                    lastStart = seq.size();
                    seq.add(new RuleRef(id(ref)));
                    skipSpace(nested);
                } else if (c == '*' || c == '+' || c == '?' || c == '{') {
                    if (lastStart < 0) throw error(pos, "'" + c + "' with nothing before it to repeat");
                    int min, max;
                    if (c == '{') {
                        pos++;
                        skipSpace(nested);
                        min = number();
                        skipSpace(nested);
                        max = min;
                        if (pos < src.length() && src.charAt(pos) == ',') {
                            pos++;
                            skipSpace(nested);
                            max = pos < src.length() && Character.isDigit(src.charAt(pos)) ? number() : -1;
                            skipSpace(nested);
                        }
                        if (pos >= src.length() || src.charAt(pos) != '}') throw error(pos, "expected '}'");
                        if (max >= 0 && max < min) throw error(pos, "repetition {" + min + "," + max + "}: the maximum is below the minimum");
                    } else {
                        min = c == '+' ? 1 : 0;
                        max = c == '?' ? 1 : -1;
                    }
                    pos++;
                    List<Element> item = new ArrayList<>(seq.subList(lastStart, seq.size()));
                    seq.subList(lastStart, seq.size()).clear();
                    repeat(rule, item, min, max, seq);
                    lastStart = -1;
                    skipSpace(nested);
                } else {
                    break;
                }
            }
            return seq.toArray(Element[]::new);
        }

        /** Appends {@code item{min,max}} (max -1: unbounded) to seq, as llama.cpp's handle_repetitions does. */
        private void repeat(String rule, List<Element> item, int min, int max, List<Element> seq) {
            if (min > 10_000 || max > 10_000) throw error(pos, "repetition counts above 10000");
            Element[] x = item.toArray(Element[]::new);
            for (int i = 0; i < min; i++) seq.addAll(item);
            if (max < 0) {
                // R ::= x R |
                int r = id(rule + "_" + rules.size());
                definedAt.put(names.get(r), pos);
                Element[] more = new Element[x.length + 1];
                System.arraycopy(x, 0, more, 0, x.length);
                more[x.length] = new RuleRef(r);
                rules.set(r, List.of(more, new Element[0]));
                seq.add(new RuleRef(r));
                return;
            }
            // Up to max - min more: R_k ::= x R_{k+1} | , innermost R ::= x |
            int next = -1;
            for (int k = 0; k < max - min; k++) {
                Element[] alt;
                if (next < 0) {
                    alt = x;
                } else {
                    alt = new Element[x.length + 1];
                    System.arraycopy(x, 0, alt, 0, x.length);
                    alt[x.length] = new RuleRef(next);
                }
                next = generated(rule, List.of(alt, new Element[0]));
            }
            if (next >= 0) seq.add(new RuleRef(next));
        }

        private CharSet charClass() {
            pos++;                      // '['
            boolean negated = pos < src.length() && src.charAt(pos) == '^';
            if (negated) pos++;
            List<Integer> ranges = new ArrayList<>();
            while (true) {
                if (pos >= src.length()) throw error(pos, "unterminated character class");
                if (src.charAt(pos) == ']') break;
                int lo = character();
                int hi = lo;
                if (pos + 1 < src.length() && src.charAt(pos) == '-' && src.charAt(pos + 1) != ']') {
                    pos++;
                    hi = character();
                    if (hi < lo) throw error(pos, "character range with its end before its start");
                }
                ranges.add(lo);
                ranges.add(hi);
            }
            pos++;                      // ']'
            return new CharSet(ranges.stream().mapToInt(Integer::intValue).toArray(), negated);
        }

        /** One character of a literal or class, escapes decoded. */
        private int character() {
            char c = src.charAt(pos);
            if (c != '\\') {
                int cp = src.codePointAt(pos);
                pos += Character.charCount(cp);
                return cp;
            }
            if (pos + 1 >= src.length()) throw error(pos, "an escape at the end of the grammar");
            char e = src.charAt(pos + 1);
            pos += 2;
            return switch (e) {
                case 'n' -> '\n';
                case 'r' -> '\r';
                case 't' -> '\t';
                case '\\', '"', '[', ']', '-', '^' -> e;
                case 'x' -> hex(2);
                case 'u' -> hex(4);
                case 'U' -> hex(8);
                default -> throw error(pos - 2, "unknown escape '\\" + e + "'");
            };
        }

        private int hex(int digits) {
            if (pos + digits > src.length()) throw error(pos, "expected " + digits + " hex digits");
            int v;
            try {
                v = Integer.parseInt(src.substring(pos, pos + digits), 16);
            } catch (NumberFormatException ex) {
                throw error(pos, "expected " + digits + " hex digits");
            }
            if (v < 0 || v > 0x10FFFF) throw error(pos, "code point out of range");
            pos += digits;
            return v;
        }

        private int number() {
            int start = pos;
            while (pos < src.length() && Character.isDigit(src.charAt(pos))) pos++;
            if (start == pos) throw error(pos, "expected a number");
            if (pos - start > 6) throw error(start, "repetition count too large");
            return Integer.parseInt(src.substring(start, pos));
        }

        private String name() {
            int start = pos;
            while (pos < src.length() && isNameChar(src.charAt(pos))) pos++;
            if (start == pos) throw error(pos, "expected a rule name");
            return src.substring(start, pos);
        }

        private static boolean isNameChar(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        }

        /** Skips blanks and comments; newlines only where the grammar lets a rule go on. */
        private void skipSpace(boolean newlines) {
            while (pos < src.length()) {
                char c = src.charAt(pos);
                if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) {
                    pos++;
                } else if (c == '#') {
                    while (pos < src.length() && src.charAt(pos) != '\n') pos++;
                } else {
                    break;
                }
            }
        }

        private IllegalArgumentException error(int at, String what) {
            int line = 1, col = 1;
            for (int i = 0; i < at && i < src.length(); i++) {
                if (src.charAt(i) == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
            return new IllegalArgumentException("grammar, line " + line + ", column " + col + ": " + what);
        }
    }

    /**
     * Refuses left recursion (a rule that can reach itself without consuming a character), which a
     * stack-based matcher would expand forever; llama.cpp refuses it too.
     */
    private static final class LeftRecursion {
        static void check(Grammar g) {
            int n = g.ruleCount();
            boolean[] nullable = new boolean[n];
            boolean changed = true;
            while (changed) {
                changed = false;
                for (int r = 0; r < n; r++) {
                    if (nullable[r]) continue;
                    for (Element[] alt : g.alternatives(r)) {
                        boolean all = true;
                        for (Element e : alt) {
                            if (!(e instanceof RuleRef ref && nullable[ref.rule()])) {
                                all = false;
                                break;
                            }
                        }
                        if (all) {
                            nullable[r] = true;
                            changed = true;
                            break;
                        }
                    }
                }
            }
            int[] state = new int[n];       // 0 unvisited, 1 on the path, 2 done
            for (int r = 0; r < n; r++) visit(g, r, nullable, state);
        }

        private static void visit(Grammar g, int r, boolean[] nullable, int[] state) {
            if (state[r] == 2) return;
            if (state[r] == 1) throw new IllegalArgumentException("grammar: rule '" + g.ruleName(r) + "' is left-recursive");
            state[r] = 1;
            for (Element[] alt : g.alternatives(r)) {
                for (Element e : alt) {
                    if (!(e instanceof RuleRef ref)) break;
                    visit(g, ref.rule(), nullable, state);
                    if (!nullable[ref.rule()]) break;
                }
            }
            state[r] = 2;
        }
    }
}
