package dev.panllama.tokenizer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * llama.cpp's byte-level BPE (llm_tokenizer_bpe_session): each pre-tokenized word starts as one
 * symbol per character and the adjacent pair with the lowest merge rank is merged until none is
 * left (leftmost first among equal ranks). With ignore_merges a word that is itself a token is taken
 * whole. A final symbol that is not a token falls back to its single bytes, where those are tokens.
 * Words repeat, so their tokens are cached.
 */
final class BpeEncoder {
    private static final int CACHE_LIMIT = 1 << 16;

    private final Vocab vocab;
    private final BpePreTokenizer preTokenizer;
    private final Map<String, int[]> wordCache = new ConcurrentHashMap<>();

    BpeEncoder(Vocab vocab) {
        this.vocab = vocab;
        this.preTokenizer = new BpePreTokenizer(vocab.preType);
    }

    void encode(String bytes, IntList out) {
        for (String word : preTokenizer.words(bytes)) {
            int[] ids = wordCache.get(word);
            if (ids == null) {
                ids = encodeWord(word);
                if (wordCache.size() >= CACHE_LIMIT) wordCache.clear();
                wordCache.put(word, ids);
            }
            out.addAll(ids);
        }
    }

    private int[] encodeWord(String word) {
        IntList out = new IntList(8);
        if (vocab.ignoreMerges) {
            int whole = vocab.id(word);
            if (whole != Vocab.NULL) {
                out.add(whole);
                return out.toArray();
            }
        }
        Symbols sym = new Symbols(word);
        sym.mergeAll(this::offer);
        for (int i = 0; i != -1; i = sym.next[i]) {
            int from = sym.start[i];
            int to = from + sym.len[i];
            int id = vocab.id(word, from, to);
            if (id != Vocab.NULL) {
                out.add(id);
                continue;
            }
            for (int k = from; k < to; k++) {
                int b = vocab.id(word, k, k + 1);
                if (b != Vocab.NULL) out.add(b);
            }
        }
        return out.toArray();
    }

    private void offer(Symbols sym, BigramQueue queue, int l, int r) {
        if (l < 0 || r < 0) return;
        String left = sym.text.substring(sym.start[l], sym.start[l] + sym.len[l]);
        String right = sym.text.substring(sym.start[r], sym.start[r] + sym.len[r]);
        int rank = vocab.mergeRank(left, right);
        if (rank >= 0) queue.push(rank, l, r, sym.len[l] + sym.len[r]);
    }
}
