package dev.panllama.sampling;

import dev.panllama.tokenizer.Tokenizer;

import java.util.Map;
import java.util.WeakHashMap;

/**
 * Grammar-constrained sampling, as llama.cpp's grammar sampler: a token may be sampled only if its bytes
 * continue the text within the {@link Grammar} (a multi-character piece must fit whole; a UTF-8
 * character split across tokens must still be able to fit), an end-of-generation token only where the
 * grammar may end, and a token with no text never. The sampler first draws as usual; only when the
 * grammar rejects its choice are all rejected tokens masked and the draw made again (llama.cpp's
 * resampling), which keeps the common case as cheap as sampling without a grammar.
 */
public final class GrammarConstraint {
    /** What {@link #sample} returns when no token at all may come next (the grammar is at a dead end). */
    public static final int NONE = -1;

    /** Each token's bytes, per tokenizer: computed once, shared by every constraint. */
    private static final Map<Tokenizer, byte[][]> PIECES = new WeakHashMap<>();

    private final GrammarMatcher matcher;
    private final Tokenizer tokenizer;
    private final byte[][] pieces;

    public GrammarConstraint(Grammar grammar, Tokenizer tokenizer) {
        this.matcher = new GrammarMatcher(grammar);
        this.tokenizer = tokenizer;
        this.pieces = pieces(tokenizer);
    }

    private static byte[][] pieces(Tokenizer tokenizer) {
        synchronized (PIECES) {
            return PIECES.computeIfAbsent(tokenizer, t -> {
                byte[][] p = new byte[t.vocabSize()][];
                for (int i = 0; i < p.length; i++) p[i] = t.tokenToPiece(i, false);
                return p;
            });
        }
    }

    /** Whether {@code token} may come next. */
    public boolean allows(int token) {
        if (tokenizer.isEog(token)) return matcher.canEnd();
        if (token < 0 || token >= pieces.length) return false;
        byte[] piece = pieces[token];
        if (piece.length == 0 || piece[0] == 0) return false;
        return matcher.accepts(piece);
    }

    /**
     * Samples a token the grammar allows from {@code logits[0, vocab)} (modified), or {@link #NONE}.
     * Does not move the grammar: {@link #accept} the token chosen.
     */
    public int sample(Sampler sampler, float[] logits, int vocab) {
        float[] original = logits.clone();
        int token = sampler.sample(logits, vocab);
        if (allows(token)) return token;
        boolean any = false;
        for (int i = 0; i < vocab; i++) {
            if (original[i] == Float.NEGATIVE_INFINITY) continue;
            if (allows(i)) any = true;
            else original[i] = Float.NEGATIVE_INFINITY;
        }
        if (!any) return NONE;
        token = sampler.sample(original, vocab);
        return allows(token) ? token : NONE;
    }

    /** Moves the grammar past a sampled token (an end-of-generation token moves nothing). */
    public void accept(int token) {
        if (tokenizer.isEog(token)) return;
        if (!matcher.accept(pieces[token])) throw new IllegalStateException("token " + token + " does not continue the grammar");
    }

    /** Whether the grammar allows nothing more but the end. */
    public boolean finished() { return matcher.finished(); }
}
