package dev.panllama.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@link Tokenizer} over a loaded {@link Vocab}: the tokenize and detokenize flows of
 * llama_vocab::impl around the per-family encoders.
 */
final class LlamaTokenizer implements Tokenizer {
    private static final System.Logger LOG = System.getLogger("panllama.tokenizer");

    private final Vocab v;
    private final SpmEncoder spm;
    private final BpeEncoder bpe;
    private final WpmEncoder wpm;

    LlamaTokenizer(Vocab v) {
        this.v = v;
        this.spm = v.type == VocabType.SPM ? new SpmEncoder(v) : null;
        this.bpe = v.type == VocabType.BPE ? new BpeEncoder(v) : null;
        this.wpm = v.type == VocabType.WPM ? new WpmEncoder(v) : null;
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        return encode(text.getBytes(StandardCharsets.UTF_8), addSpecial, parseSpecial);
    }

    @Override
    public int[] encode(byte[] utf8, boolean addSpecial, boolean parseSpecial) {
        String input = ByteText.of(utf8);
        List<SpecialTokenSplitter.Fragment> fragments = SpecialTokenSplitter.split(v, input, parseSpecial);
        IntList out = new IntList(Math.max(16, utf8.length / 3));
        switch (v.type) {
            case SPM -> encodeSpm(input, fragments, addSpecial, out);
            case BPE -> encodeBpe(input, fragments, addSpecial, out);
            case WPM -> encodeWpm(input, fragments, addSpecial, out);
        }
        return out.toArray();
    }

    private void encodeSpm(String input, List<SpecialTokenSplitter.Fragment> fragments, boolean addSpecial, IntList out) {
        if (addSpecial && v.addBos) out.add(require(v.bos, "BOS"));
        boolean afterSpecial = true;   // SentencePiece prefixes a space at the start and after each special token
        for (SpecialTokenSplitter.Fragment f : fragments) {
            if (f.isText()) {
                String text = input.substring(f.offset(), f.offset() + f.length());
                if (v.addSpacePrefix && afterSpecial) text = " " + text;
                spm.encode(text.replace(" ", PieceRenderer.SPACE_MARK), out);
                afterSpecial = false;
            } else {
                out.add(f.token());
                afterSpecial = true;
            }
        }
        if (addSpecial && v.addBos && out.size() >= 2 && out.get(1) == v.bos) warnDoubleBos();
        if (addSpecial && v.addEos) out.add(require(v.eos, "EOS"));
    }

    private void encodeBpe(String input, List<SpecialTokenSplitter.Fragment> fragments, boolean addSpecial, IntList out) {
        if (addSpecial && v.addBos) out.add(require(v.bos, "BOS"));
        for (SpecialTokenSplitter.Fragment f : fragments) {
            if (f.isText()) bpe.encode(input.substring(f.offset(), f.offset() + f.length()), out);
            else out.add(f.token());
        }
        if (addSpecial && v.addEos) out.add(require(v.eos, "EOS"));
        if (addSpecial && v.addBos && out.size() >= 2 && out.get(1) == v.bos) warnDoubleBos();
        if (addSpecial && v.addEos && out.size() >= 2 && out.get(out.size() - 2) == v.eos) {
            LOG.log(System.Logger.Level.WARNING, "added an EOS token to the prompt as the model asks, but the prompt also ends with one: it now ends with 2 EOS tokens");
        }
    }

    private void encodeWpm(String input, List<SpecialTokenSplitter.Fragment> fragments, boolean addSpecial, IntList out) {
        if (addSpecial) out.add(require(v.bos, "CLS (BOS)"));
        for (SpecialTokenSplitter.Fragment f : fragments) {
            if (f.isText()) wpm.encode(input.substring(f.offset(), f.offset() + f.length()), out);
            else out.add(f.token());
        }
        if (addSpecial) out.add(require(v.sep, "SEP"));
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
        v.checkToken(token);
        if (!special && v.has(token, TokenAttr.UNKNOWN | TokenAttr.CONTROL)) return "";
        return v.pieces[token];
    }

    @Override
    public String decode(int[] tokens, boolean removeSpecial, boolean unparseSpecial) {
        return new String(decodeBytes(tokens, removeSpecial, unparseSpecial), StandardCharsets.UTF_8);
    }

    @Override
    public byte[] decodeBytes(int[] tokens, boolean removeSpecial, boolean unparseSpecial) {
        int from = 0;
        int to = tokens.length;
        boolean stripSpace = v.addSpacePrefix;   // the space SPM put before the first word
        if (removeSpecial && v.addBos && to > from && tokens[from] == v.bos) {
            stripSpace = false;
            from++;
        }
        if (removeSpecial && v.addEos && to > from && tokens[to - 1] == v.eos) to--;
        StringBuilder text = new StringBuilder();
        for (int i = from; i < to; i++) {
            String piece = piece(tokens[i], unparseSpecial);
            if (stripSpace && piece.startsWith(" ")) piece = piece.substring(1);
            stripSpace = false;
            text.append(piece);
        }
        String bytes = v.cleanSpaces ? SpaceCleaner.clean(text.toString()) : text.toString();
        return ByteText.bytes(bytes);
    }

    @Override
    public String tokenText(int token) {
        v.checkToken(token);
        return ByteText.decodeUtf8(v.texts[token]);
    }

    @Override public VocabType type() { return v.type; }

    @Override public int vocabSize() { return v.size(); }

    @Override public int bos() { return v.bos; }

    @Override public int eos() { return v.eos; }

    @Override public int unk() { return v.unk; }

    @Override public int eot() { return v.eot; }

    @Override public int pad() { return v.pad; }

    @Override public int sep() { return v.sep; }

    @Override public boolean addBos() { return v.addBos; }

    @Override public boolean addEos() { return v.addEos; }

    @Override
    public boolean isEog(int token) {
        return token >= 0 && v.endOfGeneration.get(token);
    }

    @Override
    public boolean isControl(int token) {
        v.checkToken(token);
        return v.has(token, TokenAttr.CONTROL);
    }

    @Override
    public String toString() {
        return v.type + " tokenizer, " + v.size() + " tokens" + (v.preType != null ? ", pre-tokenizer " + v.preType : "");
    }
}
