package dev.panllama.quantize;

import dev.panllama.tensor.GgmlType;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Per-tensor type rules, ik_llama.cpp's {@code --custom-q "REGEX=TYPE,REGEX=TYPE,..."}: the first rule
 * whose regular expression is found anywhere in the tensor's name (a search, as std::regex_search,
 * not a whole-name match) decides the tensor's type. Types are ggml's names in any case (q4_K, Q8_0,
 * iq4_xs, f16, ...). As in ik_llama.cpp, a rule ends at the first '=' and rules are separated by
 * commas, so neither can appear in a pattern. The mix still runs for every tensor (its layer counters
 * advance) and a rule then overrides its choice; the output and token-embedding type options win
 * over the rules.
 */
public final class CustomRules {
    /** One rule: the pattern as written, its compiled form, the type, and its 1-based position. */
    public record Rule(String regex, Pattern pattern, GgmlType type, int position) {
        @Override
        public String toString() {
            return "rule " + position + " '" + regex + "=" + type.ggmlName() + "'";
        }
    }

    public static final CustomRules NONE = new CustomRules(List.of());

    private final List<Rule> rules;

    private CustomRules(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    /** Parses {@code REGEX=TYPE[,REGEX=TYPE...]}; several arguments are concatenated in order. */
    public static CustomRules parse(List<String> arguments) {
        List<Rule> rules = new ArrayList<>();
        for (String argument : arguments) {
            for (String item : argument.split(",")) {
                if (item.isBlank()) throw new IllegalArgumentException("empty rule in --custom-q '" + argument + "'");
                int eq = item.indexOf('=');
                if (eq <= 0 || eq == item.length() - 1) {
                    throw new IllegalArgumentException("--custom-q rule '" + item + "' is not REGEX=TYPE");
                }
                String regex = item.substring(0, eq);
                String typeName = item.substring(eq + 1).trim();
                GgmlType type = GgmlType.byName(typeName);
                if (type == null) {
                    throw new IllegalArgumentException("--custom-q rule '" + item + "': unknown type '" + typeName + "'");
                }
                if (!type.hasCodec() || !type.codec().canQuantize()) {
                    throw new IllegalArgumentException("--custom-q rule '" + item + "': panllama cannot quantize to " + type.ggmlName());
                }
                Pattern pattern;
                try {
                    pattern = Pattern.compile(regex);
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException("--custom-q rule '" + item + "': bad regular expression: " + e.getDescription());
                }
                rules.add(new Rule(regex, pattern, type, rules.size() + 1));
            }
        }
        return new CustomRules(rules);
    }

    /** The first rule matching {@code tensorName}. */
    public Optional<Rule> match(String tensorName) {
        for (Rule r : rules) {
            if (r.pattern.matcher(tensorName).find()) return Optional.of(r);
        }
        return Optional.empty();
    }

    public List<Rule> rules() {
        return rules;
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }
}
