package dev.panllama.chat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites a template so that Jinjava parses it as Jinja2 does where the two differ and no Jinjava
 * setting closes the gap:
 * <ul>
 *   <li>{@code lstrip_blocks}: Jinja2 strips the spaces and tabs before a block tag only when nothing
 *   else precedes it on its line; Jinjava also strips them after text ({@code >>> {% endif %}}). So
 *   the stripping is done here, and Jinjava's is off.</li>
 *   <li>{@code not x is defined}: a test binds tighter than {@code not} in Jinja2, looser in Jinjava,
 *   which reads {@code (not x) is defined}: always true. Written here as {@code not (x is defined)}.
 *   (DeepSeek's templates open with exactly this line.)</li>
 * </ul>
 */
final class Jinja2Source {
    private Jinja2Source() {}

    /** Blanks before a block or comment tag at the start of a line; {@code {%+} keeps them, as in Jinja2. */
    private static final Pattern LEADING_BLANKS = Pattern.compile("(?m)^[ \\t]+(?=\\{[%#](?!\\+))");
    private static final Pattern TAG = Pattern.compile("\\{[%{].*?[%}]}", Pattern.DOTALL);
    /** {@code not OPERAND is [not] TEST}, the operand a name with attribute or subscript accesses. */
    private static final Pattern NOT_IS = Pattern.compile(
            "\\bnot\\s+([A-Za-z_][\\w.]*(?:\\[[^\\]]*])*(?:\\.[A-Za-z_]\\w*)*)\\s+is\\s+(not\\s+)?([A-Za-z_]\\w*)");

    static String prepare(String source) {
        String stripped = LEADING_BLANKS.matcher(source).replaceAll("");
        Matcher tags = TAG.matcher(stripped);
        StringBuilder out = new StringBuilder(stripped.length() + 16);
        while (tags.find()) {
            String tag = tags.group();
            tags.appendReplacement(out, Matcher.quoteReplacement(NOT_IS.matcher(tag).replaceAll("not ($1 is $2$3)")));
        }
        tags.appendTail(out);
        return out.toString();
    }
}
