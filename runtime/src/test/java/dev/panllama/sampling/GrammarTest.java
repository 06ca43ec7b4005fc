package dev.panllama.sampling;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** GBNF parsing and matching on hand-made sentences: what must be accepted, rejected, and the errors. */
class GrammarTest {
    static final String ARITHMETIC = """
            # sums and products of integers, with parentheses
            root  ::= (expr "=" ws term "\\n")+
            expr  ::= term ([-+*/] term)*
            term  ::= ident | num | "(" ws expr ")" ws
            ident ::= [a-z] [a-z0-9_]* ws
            num   ::= [0-9]+ ws
            ws    ::= [ \\t\\n]*
            """;

    private static boolean full(Grammar g, String text) {
        GrammarMatcher m = new GrammarMatcher(g);
        return m.accept(text.getBytes(StandardCharsets.UTF_8)) && m.canEnd();
    }

    private static boolean prefix(Grammar g, String text) {
        return new GrammarMatcher(g).accepts(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void arithmetic() {
        Grammar g = Grammar.parse(ARITHMETIC);
        assertThat(full(g, "1+2=3\n")).isTrue();
        assertThat(full(g, "(a *12)/b=x1\n2=2\n")).isTrue();
        assertThat(full(g, "(a * 12)=1\n")).as("no blank before a term").isFalse();
        assertThat(full(g, "1+2=3")).isFalse();            // the line's newline is missing
        assertThat(prefix(g, "1+2=3")).isTrue();
        assertThat(prefix(g, "1++")).isFalse();
        assertThat(prefix(g, "A")).isFalse();
    }

    @Test
    void repetitionsLiteralsClassesAndEscapes() {
        Grammar g = Grammar.parse("root ::= \"ab\" [x-z]{2,3} \"\\u00e9\"? [^0-9]+ (\"!\" | \"\\x3F\"){1,}\n");
        assertThat(full(g, "abxyq!")).isTrue();
        assertThat(full(g, "abxyzéq?!")).isTrue();
        assertThat(full(g, "abxq!")).isFalse();            // {2,3}
        assertThat(full(g, "abwq!")).isFalse();
        assertThat(full(g, "abxy1!")).isFalse();           // [^0-9]
        assertThat(full(g, "abxyq")).isFalse();            // {1,} needs one
        Grammar dot = Grammar.parse("root ::= . .{0,2}\n");
        assertThat(full(dot, "€")).isTrue();
        assertThat(full(dot, "a€b")).isTrue();
        assertThat(full(dot, "abcd")).isFalse();
    }

    @Test
    void aCharacterSplitAcrossTokensWaitsAndMustStillFit() {
        Grammar g = Grammar.parse("root ::= \"é\" [a-z]\n");      // é is C3 A9
        GrammarMatcher m = new GrammarMatcher(g);
        assertThat(m.accepts(new byte[]{(byte) 0xC3})).isTrue();
        assertThat(m.accepts(new byte[]{(byte) 0xC4})).as("starts a character in U+0100..U+013F").isFalse();
        assertThat(m.accept(new byte[]{(byte) 0xC3})).isTrue();
        assertThat(m.canEnd()).isFalse();
        assertThat(m.accepts(new byte[]{(byte) 0xA8})).as("è, not é").isFalse();
        assertThat(m.accept(new byte[]{(byte) 0xA9, 'x'})).isTrue();
        assertThat(m.canEnd()).isTrue();
        assertThat(m.finished()).isTrue();
        assertThat(m.accepts("y".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(new GrammarMatcher(g).accepts(new byte[]{(byte) 0xA9})).as("a stray continuation byte").isFalse();
        Grammar brace = Grammar.parse("root ::= \"{\" [\\u0800-\\uFFFF]\n");
        assertThat(new GrammarMatcher(brace).accepts(new byte[]{(byte) 0xC1, (byte) 0xBB})).as("overlong '{'").isFalse();
        assertThat(new GrammarMatcher(brace).accepts(new byte[]{(byte) 0xC1})).as("overlong lead").isFalse();
        GrammarMatcher after = new GrammarMatcher(brace);
        assertThat(after.accept("{".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(after.accepts(new byte[]{(byte) 0xE0, (byte) 0x81})).as("overlong 3-byte start").isFalse();
        assertThat(after.accepts(new byte[]{(byte) 0xED, (byte) 0xA0, (byte) 0x80})).as("a surrogate").isFalse();
        assertThat(after.accepts(new byte[]{(byte) 0xE0, (byte) 0xA0})).as("U+0800's first bytes").isTrue();
    }

    @Test
    void rulesSpanLinesAfterDefinitionsBarsAndInsideGroups() {
        Grammar g = Grammar.parse("""
                root ::=
                  "[" ws (
                     item
                     ("," ws item)*
                  )? "]"
                item ::= "a" |
                  "b"
                ws ::= " "?
                """);
        assertThat(full(g, "[]")).isTrue();
        assertThat(full(g, "[ a, b,a]")).isTrue();
        assertThat(full(g, "[a,]")).isFalse();
    }

    @Test
    void errorsNameTheLineAndColumn() {
        assertThatThrownBy(() -> Grammar.parse("root ::= item\n")).hasMessage("grammar, line 1, column 10: rule 'item' is used but never defined");
        assertThatThrownBy(() -> Grammar.parse("item ::= \"x\"\n")).hasMessage("grammar: no 'root' rule");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"x\n")).hasMessageContaining("unterminated string literal");
        assertThatThrownBy(() -> Grammar.parse("root ::= [a-\n")).hasMessageContaining("character range with its end before its start");
        assertThatThrownBy(() -> Grammar.parse("root ::= [ab\n")).hasMessageContaining("unterminated character class");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\"\nroot ::= \"b\"\n")).hasMessage("grammar, line 2, column 1: rule 'root' is defined twice");
        assertThatThrownBy(() -> Grammar.parse("root ::= x{3,1}\nx ::= \"a\"\n")).hasMessageContaining("the maximum is below the minimum");
        assertThatThrownBy(() -> Grammar.parse("root ::= root \"a\" | \"b\"\n")).hasMessage("grammar: rule 'root' is left-recursive");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"\\q\"\n")).hasMessage("grammar, line 1, column 11: unknown escape '\\q'");
        assertThatThrownBy(() -> Grammar.parse("root = \"a\"\n")).hasMessage("grammar, line 1, column 6: expected '::=' after rule name 'root'");
    }
}
