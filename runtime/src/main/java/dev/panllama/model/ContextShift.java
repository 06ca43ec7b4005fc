package dev.panllama.model;

import java.util.Arrays;

/**
 * llama.cpp's context shift: when generation fills the context, keep the first tokens ({@code --keep},
 * plus the BOS token the prompt starts with; -1: the whole prompt), drop half of what follows them, and
 * go on. The kept tokens' keys move down re-rotated ({@link Session#shift}); a cache a device holds is
 * rebuilt instead, by evaluating the moved tokens again (exact, slower).
 *
 * @param enabled false: generation stops at a full context (--no-context-shift)
 * @param keep    tokens of the prompt always kept (--keep), -1 for all of them
 */
public record ContextShift(boolean enabled, int keep) {
    /** Stop at a full context. */
    public static final ContextShift DISABLED = new ContextShift(false, 0);

    public ContextShift {
        if (keep < -1) throw new IllegalArgumentException("--keep " + keep + ": must be -1 (the whole prompt) or more");
    }

    /** The positions kept at the start for a prompt of {@code promptLength} tokens (whether it begins with BOS). */
    public int keptTokens(int promptLength, boolean startsWithBos) {
        int k = keep < 0 ? promptLength : keep + (startsWithBos ? 1 : 0);
        return Math.min(k, promptLength);
    }

    /**
     * Makes room in a full session whose cache holds {@code cached} (its first {@code position()}
     * tokens): drops half of the positions after the first {@code kept}. Returns how many were
     * dropped; 0 when shifting is off or nothing follows the kept tokens.
     */
    public int apply(Session session, int kept, int[] cached) {
        if (!enabled) return 0;
        int position = session.position();
        int discard = (position - kept) / 2;
        if (discard < 1) return 0;
        if (session.canShift()) {
            session.shift(kept, discard);
        } else {
            session.truncate(kept);
            session.evaluate(Arrays.copyOfRange(cached, kept + discard, position));
        }
        return discard;
    }
}
