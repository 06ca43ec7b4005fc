package dev.panllama.sampling;

import dev.panllama.sampling.Grammar.CharSet;
import dev.panllama.sampling.Grammar.Element;
import dev.panllama.sampling.Grammar.RuleRef;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Where generation stands in a {@link Grammar}, as llama.cpp's llama_grammar tracks it: a set of stacks,
 * each the chain of (rule, alternative, element) positions that led to a character set the next code
 * point must match; an empty stack means the grammar may end here. Text arrives as the bytes of tokens:
 * a UTF-8 character split across tokens waits, and its first bytes must still be able to become a
 * character some stack accepts (llama.cpp's partial UTF-8 match). Only well-formed UTF-8 passes: an
 * overlong form (C1 BB for "{") or a surrogate would make text the grammar did not mean.
 */
public final class GrammarMatcher {
    /** A position: element {@code index} of alternative {@code alt} of {@code rule}, on top of {@code next}. */
    private record Frame(int rule, int alt, int index, Frame next) {}

    /** The most stacks kept: an ambiguous grammar cannot make each step cost more than this. */
    private static final int MAX_STACKS = 4096;

    private final Grammar grammar;
    private List<Frame> stacks;        // null entries: the empty (accepting) stack
    private byte[] pending = new byte[0];  // the first bytes of a character still arriving

    public GrammarMatcher(Grammar grammar) {
        this.grammar = grammar;
        List<Frame> start = new ArrayList<>();
        Set<Frame> seen = new HashSet<>();
        for (int a = 0; a < grammar.alternatives(grammar.root()).size(); a++) expand(new Frame(grammar.root(), a, 0, null), start, seen, 0);
        this.stacks = start;
    }

    private GrammarMatcher(Grammar grammar, List<Frame> stacks, byte[] pending) {
        this.grammar = grammar;
        this.stacks = stacks;
        this.pending = pending;
    }

    /** A copy that can be advanced without moving this one. */
    public GrammarMatcher copy() { return new GrammarMatcher(grammar, stacks, pending); }

    /** Whether the text so far is a whole sentence of the grammar: an end-of-generation token may come now. */
    public boolean canEnd() {
        if (pending.length > 0) return false;
        for (Frame f : stacks) if (f == null) return true;
        return false;
    }

    /** Whether no continuation is possible (nothing but the end, or not even that). */
    public boolean finished() {
        for (Frame f : stacks) if (f != null) return false;
        return true;
    }

    /** Whether the bytes of a token can continue the text (without moving). */
    public boolean accepts(byte[] piece) {
        return advance(piece) != null;
    }

    /** Moves past a token's bytes; false (and no move) when the grammar does not allow them. */
    public boolean accept(byte[] piece) {
        Object[] next = advance(piece);
        if (next == null) return false;
        @SuppressWarnings("unchecked")
        List<Frame> s = (List<Frame>) next[0];
        stacks = s;
        pending = (byte[]) next[1];
        return true;
    }

    /** The stacks and pending bytes after {@code piece}, or null when it is not allowed; an empty piece is allowed. */
    private Object[] advance(byte[] piece) {
        byte[] bytes = new byte[pending.length + piece.length];
        System.arraycopy(pending, 0, bytes, 0, pending.length);
        System.arraycopy(piece, 0, bytes, pending.length, piece.length);
        List<Frame> cur = stacks;
        int i = 0;
        while (i < bytes.length) {
            int b0 = bytes[i] & 0xFF;
            int len = b0 < 0x80 ? 1 : b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : -1;
            if (len < 0 || b0 > 0xF4 || b0 == 0xC0 || b0 == 0xC1) return null;   // a stray continuation byte, past U+10FFFF, overlong
            int min = len == 1 ? 0 : len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;    // shorter forms are overlong: not UTF-8
            int max = len == 1 ? 0x7F : len == 2 ? 0x7FF : len == 3 ? 0xFFFF : 0x10FFFF;
            if (i + len > bytes.length) {
                // The first bytes of a character: some stack must accept a character that begins so.
                int have = bytes.length - i;
                int lo = b0 & (0xFF >> (len + 1));
                for (int k = 1; k < have; k++) {
                    int c = bytes[i + k] & 0xFF;
                    if ((c & 0xC0) != 0x80) return null;
                    lo = (lo << 6) | (c & 0x3F);
                }
                int missing = len - have;
                int hi = Math.min(max, (lo << (6 * missing)) | ((1 << (6 * missing)) - 1));
                lo = Math.max(min, lo << (6 * missing));
                if (lo > hi || !anyMatchesSome(cur, lo, hi)) return null;
                byte[] rest = new byte[have];
                System.arraycopy(bytes, i, rest, 0, have);
                return new Object[]{cur, rest};
            }
            int cp = b0 & (0xFF >> (len + 1));
            if (len == 1) cp = b0;
            for (int k = 1; k < len; k++) {
                int c = bytes[i + k] & 0xFF;
                if ((c & 0xC0) != 0x80) return null;
                cp = (cp << 6) | (c & 0x3F);
            }
            if (cp < min || cp > max || (cp >= 0xD800 && cp <= 0xDFFF)) return null;
            cur = step(cur, cp);
            if (cur.isEmpty()) return null;
            i += len;
        }
        return new Object[]{cur, new byte[0]};
    }

    private boolean anyMatchesSome(List<Frame> from, int lo, int hi) {
        for (Frame f : from) {
            if (f != null && ((CharSet) grammar.alternatives(f.rule()).get(f.alt())[f.index()]).matchesSome(lo, hi)) return true;
        }
        return false;
    }

    /** The stacks after one code point; empty when none accepts it. */
    private List<Frame> step(List<Frame> from, int cp) {
        List<Frame> out = new ArrayList<>();
        Set<Frame> seen = new HashSet<>();
        for (Frame f : from) {
            if (f == null) continue;
            Element e = grammar.alternatives(f.rule()).get(f.alt())[f.index()];
            if (((CharSet) e).matches(cp)) expand(new Frame(f.rule(), f.alt(), f.index() + 1, f.next()), out, seen, 0);
        }
        return out;
    }

    /**
     * Adds to {@code out} every stack {@code f} leads to whose top is a character set (or the empty
     * stack): the end of an alternative returns to the frame below; a rule reference opens each of the
     * rule's alternatives above the referring frame, advanced past the reference.
     */
    private void expand(Frame f, List<Frame> out, Set<Frame> seen, int depth) {
        if (depth > 10_000) throw new IllegalStateException("grammar: nesting deeper than 10000 rules");
        while (true) {
            if (f == null) {
                if (seen.add(null)) out.add(null);
                return;
            }
            Element[] alt = grammar.alternatives(f.rule()).get(f.alt());
            if (f.index() == alt.length) {
                f = f.next();
                continue;
            }
            Element e = alt[f.index()];
            if (e instanceof RuleRef ref) {
                Frame after = new Frame(f.rule(), f.alt(), f.index() + 1, f.next());
                int alternatives = grammar.alternatives(ref.rule()).size();
                for (int a = 0; a < alternatives; a++) expand(new Frame(ref.rule(), a, 0, after), out, seen, depth + 1);
                return;
            }
            if (seen.add(f)) {
                if (out.size() >= MAX_STACKS) throw new IllegalStateException("grammar: more than " + MAX_STACKS + " ways to continue (too ambiguous)");
                out.add(f);
            }
            return;
        }
    }
}
