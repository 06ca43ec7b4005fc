package dev.panllama.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * llama.cpp's WordPiece (llm_tokenizer_wpm_session). Normalisation: each code point is replaced by
 * the first code point of its NFD form (so accents go), whitespace separates words, NUL, U+FFFD and
 * control characters are dropped, letters are lowercased, and punctuation, ASCII symbols and CJK
 * ideographs become words of their own. Each word, prefixed with U+2581 (GGUF BERT vocabularies mark
 * word starts that way instead of with ## on continuations), is covered greedily by the longest
 * matching tokens, byte by byte; a word that cannot be covered becomes [UNK].
 */
final class WpmEncoder {
    private final Vocab vocab;

    WpmEncoder(Vocab vocab) {
        this.vocab = vocab;
    }

    void encode(String bytes, IntList out) {
        for (String word : words(bytes)) {
            String marked = PieceRenderer.SPACE_MARK + word;
            int n = marked.length();
            int before = out.size();
            for (int i = 0; i < n; i++) {
                int matchEnd = -1;
                for (int j = Math.min(n, i + vocab.maxTokenLength + 1); j > i; j--) {
                    int id = vocab.id(marked, i, j);
                    if (id != Vocab.NULL) {
                        out.add(id);
                        matchEnd = j;
                        break;
                    }
                }
                if (matchEnd < 0) {
                    out.truncate(before);
                    break;
                }
                i = matchEnd - 1;
            }
            if (out.size() == before) {
                if (vocab.unk == Vocab.NULL) throw new IllegalStateException("word '" + ByteText.decodeUtf8(word) + "' has no tokens and the vocabulary has no [UNK]");
                out.add(vocab.unk);
            }
        }
    }

    /** The normalised words of a byte string, as byte strings. */
    static List<String> words(String bytes) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int original : Utf8.decode(bytes)) {
            int cp = UnicodeTables.nfdFirst(original);
            if (UnicodeTables.isWhitespace(cp)) {
                flush(word, words);
                continue;
            }
            int category = UnicodeTables.category(cp);
            if (cp == 0 || cp == Utf8.REPLACEMENT || category == UnicodeTables.CONTROL) continue;
            int lower = UnicodeTables.toLower(cp);
            if (category == UnicodeTables.PUNCTUATION || (cp < 0x7F && category == UnicodeTables.SYMBOL) || isChinese(cp)) {
                flush(word, words);
                words.add(Utf8.encode(lower));
            } else {
                Utf8.append(word, lower);
            }
        }
        flush(word, words);
        return words;
    }

    private static void flush(StringBuilder word, List<String> words) {
        if (!word.isEmpty()) {
            words.add(word.toString());
            word.setLength(0);
        }
    }

    /** CJK ideograph blocks, as BERT defines them (the 0x2B920 bound follows the HF Rust code, as llama.cpp does). */
    private static boolean isChinese(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
