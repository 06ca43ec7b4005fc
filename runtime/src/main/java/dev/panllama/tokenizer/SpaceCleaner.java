package dev.panllama.tokenizer;

/**
 * llama.cpp's clean_up_tokenization_spaces for detokenized text (llama_vocab::impl::detokenize),
 * three passes over the bytes: drop a space before {@code ? ! . ,}; turn {@code " ' "} into
 * {@code "'"}; drop the space before {@code 's 'm 're 've} (but not {@code 't 'd 'll}).
 */
final class SpaceCleaner {
    private SpaceCleaner() {}

    static String clean(String bytes) {
        return contractions(quotes(punctuation(bytes.toCharArray())));
    }

    private static char[] punctuation(char[] in) {
        StringBuilder out = new StringBuilder(in.length);
        for (int i = 0; i < in.length; i++) {
            char x = in[i];
            if (i > 0 && in[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) out.setLength(out.length() - 1);
            out.append(x);
        }
        return out.toString().toCharArray();
    }

    private static char[] quotes(char[] in) {
        StringBuilder out = new StringBuilder(in.length);
        for (int i = 0; i < in.length; i++) {
            char x = in[i];
            if (i > 0 && x == '\'' && i + 1 < in.length && in[i - 1] == ' ' && in[i + 1] == ' ') {
                out.setLength(out.length() - 1);
                in[i + 1] = '\0';   // consumed: a quote right after it no longer sees a space before it
                out.append(x);
                i++;
                continue;
            }
            out.append(x);
        }
        return out.toString().toCharArray();
    }

    private static String contractions(char[] in) {
        StringBuilder out = new StringBuilder(in.length);
        for (int i = 0; i < in.length; i++) {
            char x = in[i];
            if (i > 0 && in[i - 1] == ' ' && x == '\'' && i + 1 < in.length) {
                char x1 = in[i + 1];
                boolean drop = x1 == 's' || x1 == 'm';
                if (!drop && x1 != 't' && x1 != 'd' && i + 2 < in.length) {
                    char x2 = in[i + 2];
                    drop = (x1 == 'r' || x1 == 'v') && x2 == 'e';
                }
                if (drop) out.setLength(out.length() - 1);
            }
            out.append(x);
        }
        return out.toString();
    }
}
