package dev.panllama.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits text into the words BPE merges within (llama.cpp's unicode_regex_split): the passes of a
 * {@link BpePreType} refine the text's code points into pieces, and each piece is returned in GPT-2's
 * byte-level form. Invalid UTF-8 reaches the words as U+FFFD, as in llama.cpp.
 */
final class BpePreTokenizer {
    private final List<SplitPass> passes;

    BpePreTokenizer(BpePreType type) {
        this.passes = type.passes();
    }

    /** The byte-level words of a byte string. */
    List<String> words(String bytes) {
        int[] cps = Utf8.decode(bytes);
        IntList pieces = new IntList(1);
        pieces.add(cps.length);
        for (SplitPass pass : passes) pieces = pass.split(cps, pieces);
        List<String> words = new ArrayList<>(pieces.size());
        int start = 0;
        for (int i = 0; i < pieces.size(); i++) {
            int end = start + pieces.get(i);
            if (end > start) words.add(ByteLevel.encode(Utf8.encode(cps, start, end)));
            start = end;
        }
        return words;
    }
}
