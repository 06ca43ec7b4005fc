package dev.panllama.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@link Tokenizer} over a loaded {@link Vocab}: the tokenize and detokenize flows of
 * llama_vocab::impl around the per-family encoders.
 */
final class LlamaTokenizer implements Tokenizer {
    private static final System.Logger LOG = System.getLogger("panllama.tokenizer");

    private final Vocab vocab;
    private final SpmEncoder spm;
    private final BpeEncoder bpe;
    private final WpmEncoder wpm;

    LlamaTokenizer(Vocab vocab) {
        this.vocab = vocab;
        this.spm = vocab.type == VocabType.SPM ? new SpmEncoder(vocab) : null;
        this.bpe = vocab.type == VocabType.BPE ? new BpeEncoder(vocab) : null;
        this.wpm = vocab.type == VocabType.WPM ? new WpmEncoder(vocab) : null;
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        return encode(text.getBytes(StandardCharsets.UTF_8), addSpecial, parseSpecial);
    }

    @Override
    public int[] encode(byte[] utf8, boolean addSpecial, boolean parseSpecial) {
        String input = ByteText.of(utf8);
        List<SpecialTokenSplitter.Fragment> fragments = SpecialTokenSplitter.split(vocab, input, parseSpecial);
        IntList out = new IntList(Math.max(16, utf8.length / 3));
        switch (vocab.type) {
            case SPM -> encodeSpm(input, fragments, addSpecial, out);
            case BPE -> encodeBpe(input, fragments, addSpecial, out);
            case WPM -> encodeWpm(input, fragments, addSpecial, out);
        }
        return out.toArray();
    }

    private void encodeSpm(String input, List<SpecialTokenSplitter.Fragment> fragments, boolean addSpecial, IntList out) {
        if (addSpecial && vocab.addBos) out.add(require(vocab.bos, "BOS"));
        boolean afterSpecial = true;   // SentencePiece prefixes a space at the start and after each special token
        for (SpecialTokenSplitter.Fragment f : fragments) {
            if (f.isText()) {
                String text = input.substring(f.offset(), f.offset() + f.length());
                if (vocab.addSpacePrefix && afterSpecial) text = " " + text;
                spm.encode(text.replace(" ", PieceRenderer.SPACE_MARK), out);
                afterSpecial = false;
            } else {
                out.add(f.token());
                afterSpecial = true;
            }
        }
        if (addSpecial && vocab.addBos && out.size() >= 2 && out.get(1) == vocab.bos) warnDoubleBos();
        if (addSpecial && vocab.addEos) out.add(require(vocab.eos, "EOS"));
    }

    private void encodeBpe(String input, List<SpecialTokenSplitter.Fragment> fragments, boolean addSpecial, IntList out) {
        if (addSpecial && vocab.addBos) out.add(require(vocab.bos, "BOS"));
        for (SpecialTokenSplitter.Fragment f : fragments) {
            if (f.isText()) bpe.encode(input.substring(f.offset(), f.offset() + f.length()), out);
            else out.add(f.token());
        }
        if (addSpecial && vocab.addEos) out.add(require(vocab.eos, "EOS"));
        if (addSpecial && vocab.addBos && out.size() >= 2 && out.get(1) == vocab.bos) warnDoubleBos();
        if (addSpecial && vocab.addEos && out.size() >= 2 && out.get(out.size() - 2) == vocab.eos) {
            LOG.log(System.Logger.Level.WARNING, "added an EOS token to the prompt as the model asks, but the prompt also ends with one: it now ends with 2 EOS tokens");
        }
    }

    private void encodeWpm(String input, List<SpecialTokenSplitter.Fragment> fragments, boolean addSpecial, IntList out) {
        if (addSpecial) out.add(require(vocab.bos, "CLS (BOS)"));
        for (SpecialTokenSplitter.Fragment f : fragments) {
            if (f.isText()) wpm.encode(input.substring(f.offset(), f.offset() + f.length()), out);
            else out.add(f.token());
        }
        if (addSpecial) out.add(require(vocab.sep, "SEP"));
    }

    private static int require(int id, String what) {
        if (id == Vocab.NULL) throw new IllegalStateException("the model asks for a " + what + " token but its vocabulary has none");
        return id;
    }

    private static void warnDoubleBos() {
        LOG.log(System.Logger.Level.WARNING, "added a BOS token to the prompt as the model asks, but the prompt also starts with one: it now starts with 2 BOS tokens");
    }

    @Override
    public byte[] tokenToPiece(int token, boolean special) {
        return ByteText.bytes(piece(token, special));
    }

    private String piece(int token, boolean special) {
        vocab.checkToken(token);
        if (!special && vocab.has(token, TokenAttr.UNKNOWN | TokenAttr.CONTROL)) return "";
        return vocab.pieces[token];
    }

    @Override
    public String decode(int[] tokens, boolean removeSpecial, boolean unparseSpecial) {
        return new String(decodeBytes(tokens, removeSpecial, unparseSpecial), StandardCharsets.UTF_8);
    }

    @Override
    public byte[] decodeBytes(int[] tokens, boolean removeSpecial, boolean unparseSpecial) {
        int from = 0;
        int to = tokens.length;
        boolean stripSpace = vocab.addSpacePrefix;   // the space SPM put before the first word
        if (removeSpecial && vocab.addBos && to > from && tokens[from] == vocab.bos) {
            stripSpace = false;
            from++;
        }
        if (removeSpecial && vocab.addEos && to > from && tokens[to - 1] == vocab.eos) to--;
        StringBuilder text = new StringBuilder();
        for (int i = from; i < to; i++) {
            String piece = piece(tokens[i], unparseSpecial);
            if (stripSpace && piece.startsWith(" ")) piece = piece.substring(1);
            stripSpace = false;
            text.append(piece);
        }
        String bytes = vocab.cleanSpaces ? SpaceCleaner.clean(text.toString()) : text.toString();
        return ByteText.bytes(bytes);
    }

    @Override
    public String tokenText(int token) {
        vocab.checkToken(token);
        return ByteText.decodeUtf8(vocab.texts[token]);
    }

    @Override public VocabType type() { return vocab.type; }

    @Override public int vocabSize() { return vocab.size(); }

    @Override public int bos() { return vocab.bos; }

    @Override public int eos() { return vocab.eos; }

    @Override public int unk() { return vocab.unk; }

    @Override public int eot() { return vocab.eot; }

    @Override public int pad() { return vocab.pad; }

    @Override public int sep() { return vocab.sep; }

    @Override public boolean addBos() { return vocab.addBos; }

    @Override public boolean addEos() { return vocab.addEos; }

    @Override
    public boolean isEog(int token) {
        return token >= 0 && vocab.endOfGeneration.get(token);
    }

    @Override
    public boolean isControl(int token) {
        vocab.checkToken(token);
        return vocab.has(token, TokenAttr.CONTROL);
    }

    @Override
    public String toString() {
        return vocab.type + " tokenizer, " + vocab.size() + " tokens" + (vocab.preType != null ? ", pre-tokenizer " + vocab.preType : "");
    }
}
