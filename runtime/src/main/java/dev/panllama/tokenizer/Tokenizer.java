package dev.panllama.tokenizer;

import dev.panllama.gguf.GgufMetadata;
import dev.panllama.gguf.MappedGguf;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model's tokenizer, built from its GGUF metadata, that tokenizes and detokenizes exactly as
 * llama.cpp (c392e50) does: SPM ({@code tokenizer.ggml.model = llama}), byte-level BPE ({@code gpt2},
 * with the pre-tokenizer named by {@code tokenizer.ggml.pre}) and WordPiece ({@code bert}).
 * Token ids of special tokens that a model does not have are -1. Instances are thread-safe.
 */
public interface Tokenizer {

    /** Builds the tokenizer a model's metadata describes; fails with a clear message for unsupported kinds. */
    static Tokenizer fromMetadata(GgufMetadata md) {
        return new LlamaTokenizer(VocabLoader.load(md));
    }

    /** Reads only the metadata of a GGUF file (vocab-only files work) and builds its tokenizer. */
    static Tokenizer fromFile(Path gguf) throws IOException {
        try (MappedGguf file = MappedGguf.open(gguf)) {
            return fromMetadata(file.metadata());
        }
    }

    VocabType type();

    int vocabSize();

    /**
     * Tokenizes text (llama_tokenize). With addSpecial, BOS/EOS (CLS/SEP for WordPiece) are added as
     * the model's flags say; with parseSpecial, control-token texts in the input become those tokens.
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /** As {@link #encode(String, boolean, boolean)} for raw UTF-8 bytes (invalid sequences are handled as llama.cpp does). */
    int[] encode(byte[] utf8, boolean addSpecial, boolean parseSpecial);

    /**
     * The bytes a token stands for (llama_token_to_piece, no lstrip). Control and unknown tokens give
     * nothing unless special. A piece may be part of a UTF-8 character; see {@link Utf8StreamDecoder}.
     */
    byte[] tokenToPiece(int token, boolean special);

    /** Detokenizes (llama_detokenize) and decodes the bytes as UTF-8. */
    String decode(int[] tokens, boolean removeSpecial, boolean unparseSpecial);

    /** Detokenizes to bytes (llama_detokenize). */
    byte[] decodeBytes(int[] tokens, boolean removeSpecial, boolean unparseSpecial);

    /** The token's text as stored in the vocabulary (e.g. {@code ▁Hello}, {@code <0x0A>}, {@code Ġworld}). */
    String tokenText(int token);

    int bos();

    int eos();

    int unk();

    int eot();

    int pad();

    int sep();

    boolean addBos();

    boolean addEos();

    /** End of generation: eos, eot, eom and tokens llama.cpp recognises by text ({@code <|eot_id|>}, {@code <|im_end|>}, ...). */
    boolean isEog(int token);

    boolean isControl(int token);
}
