package dev.panllama.tokenizer;

/**
 * Token ids by text, looked up by a range of a byte string without copying it out: the merge loops
 * ask for every adjacent pair of symbols, millions of times on a long text. Open addressing over
 * the token texts; when texts repeat, the later id wins, as in llama.cpp's token_to_id map.
 */
final class TokenIndex {
    private final String[] texts;
    private final int[] slots;   // token id + 1; 0 = empty
    private final int mask;

    TokenIndex(String[] texts) {
        this.texts = texts;
        int capacity = Integer.highestOneBit(Math.max(4, texts.length) * 2) * 2;
        slots = new int[capacity];
        mask = capacity - 1;
        for (int id = 0; id < texts.length; id++) {
            String t = texts[id];
            int s = hash(t, 0, t.length()) & mask;
            while (slots[s] != 0 && !texts[slots[s] - 1].equals(t)) s = (s + 1) & mask;
            slots[s] = id + 1;
        }
    }

    /** The id of the token whose text is {@code text[from, to)}, or {@link Vocab#NULL}. */
    int find(String text, int from, int to) {
        int len = to - from;
        int s = hash(text, from, to) & mask;
        while (true) {
            int entry = slots[s];
            if (entry == 0) return Vocab.NULL;
            String t = texts[entry - 1];
            if (t.length() == len && t.regionMatches(0, text, from, len)) return entry - 1;
            s = (s + 1) & mask;
        }
    }

    int find(String text) {
        return find(text, 0, text.length());
    }

    private static int hash(String s, int from, int to) {
        int h = 0x9E3779B9;
        for (int i = from; i < to; i++) h = (h ^ s.charAt(i)) * 0x01000193;
        return h ^ (h >>> 15);
    }
}
