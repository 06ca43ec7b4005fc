package dev.panllama.scheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One {@code -ot/--override-tensor} rule: tensors whose name contains a match of {@code pattern}
 * (an unanchored regex search, as llama.cpp's std::regex_search) go to {@code buffer}.
 */
public record OverrideRule(Pattern pattern, String buffer) {

    public boolean matches(String tensorName) {
        return pattern.matcher(tensorName).find();
    }

    /**
     * Parses the values of repeated {@code -ot} flags, in command-line order; each value is a comma list
     * of {@code REGEX=BUFFER}. Buffer names are checked later, against the devices present.
     */
    public static List<OverrideRule> parse(List<String> flagValues) {
        List<OverrideRule> rules = new ArrayList<>();
        for (String value : flagValues) {
            for (String item : value.split(",")) {
                int eq = item.lastIndexOf('=');
                if (eq <= 0 || eq == item.length() - 1) {
                    throw new IllegalArgumentException("-ot '" + item + "': expected REGEX=BUFFER (e.g. exps=CPU)");
                }
                String regex = item.substring(0, eq);
                try {
                    rules.add(new OverrideRule(Pattern.compile(regex), item.substring(eq + 1)));
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException("-ot '" + item + "': bad regex '" + regex + "': " + e.getDescription());
                }
            }
        }
        return rules;
    }

    @Override
    public String toString() {
        return pattern.pattern() + "=" + buffer;
    }
}
