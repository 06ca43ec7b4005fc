package dev.panllama.tokenizer;

import java.util.BitSet;
import java.util.Map;

/**
 * A loaded vocabulary: token texts (byte strings, see {@link ByteText}), scores, attributes, the
 * special token ids and the tokenizer flags, as llama.cpp's llama_vocab holds them after loading.
 * Filled once by {@link VocabLoader}; read-only afterwards.
 */
final class Vocab {
    static final int NULL = -1;

    VocabType type;
    String[] texts;
    float[] scores;
    int[] attrs;
    TokenIndex ids;
    int maxTokenLength;

    int bos = NULL, eos = NULL, eot = NULL, eom = NULL, unk = NULL, sep = NULL, pad = NULL;
    int fimPre = NULL, fimSuf = NULL, fimMid = NULL, fimPad = NULL, fimRep = NULL, fimSep = NULL;

    boolean addSpacePrefix;
    boolean addBos;
    boolean addEos;
    boolean ignoreMerges;
    boolean cleanSpaces;

    /** BPE only: the pre-tokenizer and the merge ranks keyed by {@code left + " " + right}. */
    BpePreType preType;
    Map<String, Integer> mergeRanks;

    BitSet endOfGeneration = new BitSet();
    /** Control, user-defined and unknown tokens, longest text first: the order they are split out of text. */
    int[] specialTokens;
    /** token_to_piece with special=true of every token, as byte strings. */
    String[] pieces;
    private final int[] byteTokens = new int[256];

    int size() { return texts.length; }

    /** The id of a token text (byte string), or {@link #NULL}. */
    int id(String text) {
        return ids.find(text);
    }

    /** The id of the token whose text is {@code text[from, to)}, or {@link #NULL}. */
    int id(String text, int from, int to) {
        return ids.find(text, from, to);
    }

    boolean has(int token, int attr) { return (attrs[token] & attr) != 0; }

    /** Merge rank of a pair of adjacent symbols, or -1. */
    int mergeRank(String left, String right) {
        Integer r = mergeRanks.get(left + " " + right);
        return r == null ? -1 : r;
    }

    /**
     * The byte-fallback token of a byte (llama_vocab::byte_to_token for SPM): {@code <0xXX>}, else the
     * byte itself as a token; llama.cpp fails the same way when neither exists.
     */
    int byteToken(int b) {
        int id = byteTokens[b & 0xFF];
        if (id == NULL) {
            throw new IllegalStateException(String.format("vocabulary has no token for byte 0x%02X (neither <0x%02X> nor the raw byte)", b & 0xFF, b & 0xFF));
        }
        return id;
    }

    void indexByteTokens() {
        for (int b = 0; b < 256; b++) {
            int id = id(String.format("<0x%02X>", b));
            byteTokens[b] = id != NULL ? id : id(String.valueOf((char) b));
        }
    }

    void checkToken(int token) {
        if (token < 0 || token >= texts.length) {
            throw new IllegalArgumentException("token id " + token + " is out of range [0, " + texts.length + ")");
        }
    }
}
