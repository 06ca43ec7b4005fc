package dev.panllama.tokenizer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * llama.cpp's SentencePiece-style BPE (llm_tokenizer_spm_session): the text starts as one symbol per
 * UTF-8 character; repeatedly the adjacent pair whose concatenation is the highest-scoring token is
 * merged (the leftmost pair among equal scores). A final symbol that is not a token is emitted as its
 * byte-fallback tokens.
 *
 * <p>llama.cpp runs this over a whole text at once. Here the text is first cut where no merge can
 * ever reach across: between two symbols whose boundary bytes occur next to each other in no token
 * text, a merged symbol (always a token) cannot span the boundary, so the pieces on either side merge
 * independently and in the same order as in one run. The pieces are mostly words, and repeat, so
 * their tokens are cached.
 */
final class SpmEncoder {
    private static final int CACHE_LIMIT = 1 << 16;

    private final Vocab vocab;
    /** Bit (a << 8 | b) is set when bytes a, b are adjacent somewhere inside a token text. */
    private final long[] innerPairs = new long[1 << 10];
    private final Map<String, int[]> pieceCache = new ConcurrentHashMap<>();

    SpmEncoder(Vocab vocab) {
        this.vocab = vocab;
        for (String t : vocab.texts) {
            for (int k = 0; k + 1 < t.length(); k++) {
                int pair = t.charAt(k) << 8 | t.charAt(k + 1);
                innerPairs[pair >>> 6] |= 1L << pair;
            }
        }
    }

    private boolean mayMergeAcross(char before, char after) {
        int pair = before << 8 | after;
        return (innerPairs[pair >>> 6] & (1L << pair)) != 0;
    }

    /** Tokenizes a byte string whose spaces are already escaped as U+2581. */
    void encode(String text, IntList out) {
        int n = text.length();
        int pieceStart = 0;
        for (int offset = 0; offset < n; ) {
            int next = offset + Math.min(Utf8.sequenceLength(text.charAt(offset)), n - offset);
            if (next < n && !mayMergeAcross(text.charAt(next - 1), text.charAt(next))) {
                encodePiece(text.substring(pieceStart, next), out);
                pieceStart = next;
            }
            offset = next;
        }
        if (pieceStart < n) encodePiece(text.substring(pieceStart), out);
    }

    private void encodePiece(String piece, IntList out) {
        int[] ids = pieceCache.get(piece);
        if (ids == null) {
            IntList tokens = new IntList(8);
            encodeWhole(piece, tokens);
            ids = tokens.toArray();
            if (pieceCache.size() >= CACHE_LIMIT) pieceCache.clear();
            pieceCache.put(piece, ids);
        }
        out.addAll(ids);
    }

    /** The merge loop over a whole text, as llama.cpp runs it. */
    void encodeWhole(String text, IntList out) {
        if (text.isEmpty()) return;
        Symbols sym = new Symbols(text);
        sym.mergeAll(this::offer);
        for (int i = 0; i != -1; i = sym.next[i]) {
            int from = sym.start[i];
            int to = from + sym.len[i];
            int id = vocab.id(text, from, to);
            if (id != Vocab.NULL) {
                out.add(id);
            } else {
                for (int k = from; k < to; k++) out.add(vocab.byteToken(text.charAt(k)));
            }
        }
    }

    private void offer(Symbols sym, BigramQueue queue, int l, int r) {
        if (l < 0 || r < 0) return;
        int length = sym.len[l] + sym.len[r];
        int id = vocab.id(sym.text, sym.start[l], sym.start[l] + length);
        if (id == Vocab.NULL) return;
        queue.push(-(double) vocab.scores[id], l, r, length);
    }
}
