package dev.panllama.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama-bench's multi-valued flags: each flag may be repeated and each value is a comma list; a number
 * may be a range {@code FIRST-LAST} (step 1), {@code FIRST-LAST+STEP} or {@code FIRST-LAST*FACTOR}, as
 * in llama-bench's parse_int_range ({@code -p 0,512}, {@code -t 1-4}, {@code -p 64-512*2}).
 */
final class ValueLists {
    private static final Pattern INT_OR_RANGE = Pattern.compile("(\\d+)(?:-(\\d+)(?:([+*])(\\d+))?)?");

    private ValueLists() {}

    /** The comma-separated items of every occurrence of a flag, in order. */
    static List<String> strings(List<String> values, String flag) {
        List<String> out = new ArrayList<>();
        for (String v : values) {
            for (String item : v.split(",", -1)) {
                if (item.isBlank()) throw new IllegalArgumentException(flag + " " + v + ": empty item in the list");
                out.add(item.strip());
            }
        }
        return out;
    }

    /** The numbers of every occurrence of a flag, ranges expanded. */
    static List<Integer> ints(List<String> values, String flag) {
        List<Integer> out = new ArrayList<>();
        for (String item : strings(values, flag)) {
            Matcher m = INT_OR_RANGE.matcher(item);
            if (!m.matches()) {
                throw new IllegalArgumentException(flag + " " + item + ": not a number or a range FIRST-LAST[+STEP|*FACTOR]");
            }
            int first = parse(m.group(1), flag, item);
            if (m.group(2) == null) {
                out.add(first);
                continue;
            }
            int last = parse(m.group(2), flag, item);
            if (last < first) throw new IllegalArgumentException(flag + " " + item + ": the range ends before it starts");
            boolean multiply = "*".equals(m.group(3));
            int step = m.group(4) == null ? 1 : parse(m.group(4), flag, item);
            if (multiply ? step < 2 || first == 0 : step < 1) {
                throw new IllegalArgumentException(flag + " " + item + ": the range never advances");
            }
            for (long v = first; v <= last; v = multiply ? v * step : v + step) out.add((int) v);
        }
        return out;
    }

    /** Booleans written 0 or 1, as llama-bench's {@code -mmp 0,1}. */
    static List<Boolean> bools(List<String> values, String flag) {
        List<Boolean> out = new ArrayList<>();
        for (String item : strings(values, flag)) {
            switch (item) {
                case "0" -> out.add(false);
                case "1" -> out.add(true);
                default -> throw new IllegalArgumentException(flag + " " + item + ": expected 0 or 1");
            }
        }
        return out;
    }

    private static int parse(String digits, String flag, String item) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " " + item + ": " + digits + " is too large");
        }
    }
}
