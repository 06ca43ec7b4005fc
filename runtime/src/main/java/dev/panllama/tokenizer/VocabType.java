package dev.panllama.tokenizer;

/** The tokenizer families of llama.cpp that panllama implements ({@code tokenizer.ggml.model}). */
public enum VocabType {
    /** {@code llama}: SentencePiece-style BPE over token scores, with byte fallback. */
    SPM,
    /** {@code gpt2}: byte-level BPE over merge ranks, after a regex pre-tokenizer. */
    BPE,
    /** {@code bert}: WordPiece, greedy longest match after BERT normalisation. */
    WPM
}
