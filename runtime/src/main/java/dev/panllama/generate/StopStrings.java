package dev.panllama.generate;

import java.util.List;

/**
 * Finds stop strings in streamed text. Text that could be the start of a stop string is held back until
 * the next piece shows whether it is one, so that a stop string split across tokens is never emitted
 * (llama.cpp's server does the same with its partial-stop search).
 */
final class StopStrings {
    private final List<String> stops;
    private final int longest;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;
    private String matched;

    StopStrings(List<String> stops) {
        for (String s : stops) if (s.isEmpty()) throw new IllegalArgumentException("a stop string is empty");
        this.stops = List.copyOf(stops);
        this.longest = stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** True once a stop string was seen; nothing more is emitted. */
    boolean stopped() { return stopped; }

    /** The stop string that ended the text, or null. */
    String matched() { return matched; }

    /** Takes the next piece of text; returns the text that can be emitted now (up to a stop string, if one completed). */
    String offer(String piece) {
        if (stopped) return "";
        if (stops.isEmpty()) return piece;
        pending.append(piece);
        int first = -1;
        for (String s : stops) {
            int at = pending.indexOf(s);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
                matched = s;
            }
        }
        if (first >= 0) {
            stopped = true;
            String out = pending.substring(0, first);
            pending.setLength(0);
            return out;
        }
        int hold = partialStopLength();
        String out = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return out;
    }

    /** What is still held back, at the end of generation (it did not turn into a stop string). */
    String flush() {
        String out = stopped ? "" : pending.toString();
        pending.setLength(0);
        return out;
    }

    /** Length of the longest tail of the pending text that begins some stop string. */
    private int partialStopLength() {
        for (int k = Math.min(pending.length(), longest - 1); k > 0; k--) {
            String tail = pending.substring(pending.length() - k);
            for (String s : stops) if (s.startsWith(tail)) return k;
        }
        return 0;
    }
}
