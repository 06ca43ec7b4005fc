package dev.panllama.tokenizer;

import dev.panllama.gguf.GgufArray;
import dev.panllama.gguf.GgufMetadata;
import dev.panllama.gguf.GgufValueType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;

/**
 * Reads a vocabulary from GGUF metadata the way llama.cpp c392e50 does (llama_vocab::impl::load):
 * per-model defaults, then the metadata keys that override them, then the token-text heuristics for
 * end-of-generation and fill-in-the-middle tokens.
 */
final class VocabLoader {
    private static final System.Logger LOG = System.getLogger("panllama.tokenizer");
    private static final String KEY = "tokenizer.ggml.";
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Texts of end-of-turn tokens (checked when no eot id is given) and of end-of-generation tokens. */
    private static final List<String> EOT_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>");
    private static final List<String> EOG_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|eom_id|>", "<EOT>");

    private final GgufMetadata md;
    private final Vocab vocab = new Vocab();

    private VocabLoader(GgufMetadata md) {
        this.md = md;
    }

    static Vocab load(GgufMetadata md) {
        return new VocabLoader(md).load();
    }

    private Vocab load() {
        String model = md.findString(KEY + "model").orElseThrow(() ->
                new IllegalArgumentException("no tokenizer in this GGUF file (" + KEY + "model is missing)"));
        String pre = md.getString(KEY + "pre", "");
        chooseType(model, pre);
        vocab.addSpacePrefix = md.getBool(KEY + "add_space_prefix", vocab.addSpacePrefix);

        readTokens();
        vocab.indexByteTokens();
        readSpecialIds();
        vocab.addBos = md.getBool(KEY + "add_bos_token", vocab.addBos);
        vocab.addEos = md.getBool(KEY + "add_eos_token", vocab.addEos);
        detectSpecialTokensByText();
        collectEndOfGeneration();
        vocab.specialTokens = specialTokensLongestFirst();
        vocab.pieces = PieceRenderer.renderAll(vocab);
        applyModelAttributes(pre);
        return vocab;
    }

    private void chooseType(String model, String pre) {
        switch (model) {
            case "llama" -> {
                vocab.type = VocabType.SPM;
                vocab.bos = 1;
                vocab.eos = 2;
                vocab.unk = 0;
                vocab.addSpacePrefix = true;
                vocab.addBos = true;
            }
            case "bert" -> {
                vocab.type = VocabType.WPM;
                vocab.bos = 101;
                vocab.unk = 100;
                vocab.sep = 102;
                vocab.pad = 0;
                vocab.cleanSpaces = true;
                vocab.addBos = true;
            }
            case "gpt2" -> {
                vocab.type = VocabType.BPE;
                vocab.bos = 11;
                vocab.eos = 11;
                vocab.cleanSpaces = true;
                readMerges();
                choosePreTokenizer(pre);
            }
            case "t5", "rwkv", "no_vocab", "none" -> throw new UnsupportedOperationException(
                    "tokenizer '" + model + "' (" + KEY + "model) is not supported; panllama implements llama (SPM), gpt2 (BPE) and bert (WPM)");
            default -> throw new IllegalArgumentException("unknown tokenizer '" + model + "' (" + KEY + "model)");
        }
    }

    private void choosePreTokenizer(String pre) {
        BpePreType.Setup setup;
        if (pre.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "missing pre-tokenizer type (" + KEY + "pre), using 'default': generation quality will be degraded");
            setup = BpePreType.forName("default");
        } else {
            setup = BpePreType.forName(pre);
            if (setup == null) throw new IllegalArgumentException("unknown pre-tokenizer type '" + pre + "' (" + KEY + "pre)");
        }
        vocab.preType = setup.type();
        vocab.cleanSpaces = setup.cleanSpaces();
        vocab.ignoreMerges = setup.ignoreMerges();
        if (setup.addBos()) vocab.addBos = true;
        if (setup.noDefaultBos()) vocab.bos = Vocab.NULL;
    }

    private void readTokens() {
        GgufArray tokens = md.findArray(KEY + "tokens").orElseThrow(() ->
                new IllegalArgumentException("cannot find the token list (" + KEY + "tokens) in this GGUF file"));
        String[] texts = rawStrings(tokens, KEY + "tokens");
        int n = texts.length;
        float[] scores = md.findArray(KEY + "scores").map(a -> numbers(a, n, KEY + "scores").toFloatArray()).orElse(new float[n]);
        int[] attrs = new int[n];
        GgufArray types = md.findArray(KEY + "token_type").map(a -> numbers(a, n, KEY + "token_type")).orElse(null);
        int maxLength = 0;
        for (int i = 0; i < n; i++) {
            if (texts[i].isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "empty token at index " + i);
                texts[i] = "[EMPTY_" + i + "]";
            }
            maxLength = Math.max(maxLength, texts[i].length());
            attrs[i] = types == null ? TokenAttr.NORMAL : TokenAttr.fromTokenType(types.getLong(i));
        }
        TokenIndex ids = new TokenIndex(texts);
        for (int i = 0; i < n; i++) {
            int owner = ids.find(texts[i]);
            if (owner != i) LOG.log(System.Logger.Level.WARNING, "token " + i + " repeats the text of token " + owner + ", which the text maps to");
        }
        vocab.texts = texts;
        vocab.scores = scores;
        vocab.attrs = attrs;
        vocab.ids = ids;
        vocab.maxTokenLength = maxLength;
    }

    private static GgufArray numbers(GgufArray a, int n, String key) {
        if (a.elementType() == GgufValueType.STRING || a.elementType() == GgufValueType.ARRAY) {
            throw new IllegalArgumentException("metadata key '" + key + "' holds " + a.elementType() + " elements, expected numbers");
        }
        if (a.size() < n) throw new IllegalArgumentException("metadata key '" + key + "' has " + a.size() + " entries for " + n + " tokens");
        return a;
    }

    private void readMerges() {
        GgufArray merges = md.findArray(KEY + "merges").orElseThrow(() ->
                new IllegalArgumentException("cannot find the BPE merges (" + KEY + "merges) in this GGUF file"));
        String[] lines = rawStrings(merges, KEY + "merges");
        Map<String, Integer> ranks = HashMap.newHashMap(lines.length);
        for (int i = 0; i < lines.length; i++) {
            // llama.cpp splits at the first space after the first byte; a line without one ranks the pair ("", "")
            int space = lines[i].indexOf(' ', 1);
            String key = space >= 0 ? lines[i] : " ";
            ranks.putIfAbsent(key, i);
        }
        vocab.mergeRanks = ranks;
    }

    /** The elements of a STRING array as byte strings, exactly as stored (no UTF-8 decoding). */
    private static String[] rawStrings(GgufArray array, String key) {
        if (array.elementType() != GgufValueType.STRING) {
            throw new IllegalArgumentException("metadata key '" + key + "' holds " + array.elementType() + " elements, expected STRING");
        }
        if (array.size() > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("metadata key '" + key + "' has too many entries");
        MemorySegment raw = array.rawBytes();
        String[] out = new String[(int) array.size()];
        long p = 0;
        for (int i = 0; i < out.length; i++) {
            int len = (int) raw.get(U64, p);
            out[i] = ByteText.of(raw.asSlice(p + 8, len).toArray(ValueLayout.JAVA_BYTE));
            p += 8 + len;
        }
        return out;
    }

    private void readSpecialIds() {
        specialId("bos_token_id", () -> vocab.bos, id -> vocab.bos = id);
        specialId("eos_token_id", () -> vocab.eos, id -> vocab.eos = id);
        specialId("eot_token_id", () -> vocab.eot, id -> vocab.eot = id);
        specialId("eom_token_id", () -> vocab.eom, id -> vocab.eom = id);
        specialId("unknown_token_id", () -> vocab.unk, id -> vocab.unk = id);
        specialId("seperator_token_id", () -> vocab.sep, id -> vocab.sep = id);
        specialId("padding_token_id", () -> vocab.pad, id -> vocab.pad = id);
        specialId("fim_pre_token_id", () -> vocab.fimPre, id -> vocab.fimPre = id);
        specialId("fim_suf_token_id", () -> vocab.fimSuf, id -> vocab.fimSuf = id);
        specialId("fim_mid_token_id", () -> vocab.fimMid, id -> vocab.fimMid = id);
        specialId("fim_pad_token_id", () -> vocab.fimPad, id -> vocab.fimPad = id);
        specialId("fim_rep_token_id", () -> vocab.fimRep, id -> vocab.fimRep = id);
        specialId("fim_sep_token_id", () -> vocab.fimSep, id -> vocab.fimSep = id);
        // deprecated names of the first three
        specialId("prefix_token_id", () -> vocab.fimPre, id -> vocab.fimPre = id);
        specialId("suffix_token_id", () -> vocab.fimSuf, id -> vocab.fimSuf = id);
        specialId("middle_token_id", () -> vocab.fimMid, id -> vocab.fimMid = id);
    }

    /** An id key overrides the default only when it names a token; otherwise llama.cpp warns and keeps the default. */
    private void specialId(String name, IntSupplier current, IntConsumer set) {
        if (!md.contains(KEY + name)) return;
        long id = md.getLong(KEY + name);
        if (id < 0 || id >= vocab.size()) {
            // Converters write -1 / 0xFFFFFFFF for "none" routinely: that is the default, said only at FINE. Another id
            // outside the vocabulary is a broken file, which llama.cpp warns about too.
            boolean unset = id == -1 || id == 0xFFFFFFFFL;
            LOG.log(unset ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                    "bad special token: '" + KEY + name + "' = " + id + ", using default id " + current.getAsInt());
        } else {
            set.accept((int) id);
        }
    }

    /**
     * llama.cpp finds eot/eom/fim tokens by their text when no key names them, and marks them control.
     * When several texts qualify (phi-3 has both <|endoftext|> and <|end|>) it takes the first in the
     * iteration order of its hash map, which is roughly reverse insertion order: so the highest id
     * here (for phi-3 that gives <|end|>, as llama.cpp c392e50 reports).
     */
    private void detectSpecialTokensByText() {
        for (int id = vocab.size() - 1; id >= 0; id--) {
            String text = ByteText.decodeUtf8(vocab.texts[id]);
            if (vocab.eot == Vocab.NULL && EOT_TEXTS.contains(text)) vocab.eot = markControl(id);
            if (vocab.eom == Vocab.NULL && text.equals("<|eom_id|>")) vocab.eom = markControl(id);
            if (vocab.fimPre == Vocab.NULL && List.of("<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>", "<PRE>").contains(text)) vocab.fimPre = markControl(id);
            if (vocab.fimSuf == Vocab.NULL && List.of("<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>", "<SUF>").contains(text)) vocab.fimSuf = markControl(id);
            if (vocab.fimMid == Vocab.NULL && List.of("<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>", "<MID>").contains(text)) vocab.fimMid = markControl(id);
            if (vocab.fimPad == Vocab.NULL && List.of("<|fim_pad|>", "<fim-pad>", "<PAD>").contains(text)) vocab.fimPad = markControl(id);
            if (vocab.fimRep == Vocab.NULL && List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>").contains(text)) vocab.fimRep = markControl(id);
            if (vocab.fimSep == Vocab.NULL && text.equals("<|file_sep|>")) vocab.fimSep = markControl(id);
        }
    }

    private int markControl(int id) {
        if (!vocab.has(id, TokenAttr.CONTROL)) {
            LOG.log(System.Logger.Level.WARNING, "control-looking token " + id + " '" + ByteText.decodeUtf8(vocab.texts[id])
                    + "' was not control-type; this is probably a bug in the model. its type will be overridden");
            vocab.attrs[id] = TokenAttr.CONTROL;
        }
        return id;
    }

    private void collectEndOfGeneration() {
        for (int id : new int[]{vocab.fimPad, vocab.fimRep, vocab.fimSep}) if (id != Vocab.NULL) vocab.endOfGeneration.set(id);
        for (int id = 0; id < vocab.size(); id++) {
            if (EOG_TEXTS.contains(ByteText.decodeUtf8(vocab.texts[id]))) {
                vocab.endOfGeneration.set(markControl(id));
            }
        }
        for (int id : new int[]{vocab.eos, vocab.eot, vocab.eom}) {
            if (id != Vocab.NULL && !vocab.endOfGeneration.get(id)) {
                vocab.endOfGeneration.set(id);
                LOG.log(System.Logger.Level.DEBUG, "special token " + id + " is not among the end-of-generation texts; added");
            }
        }
    }

    private int[] specialTokensLongestFirst() {
        List<Integer> special = new ArrayList<>();
        for (int id = 0; id < vocab.size(); id++) {
            if (vocab.has(id, TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN)) special.add(id);
        }
        special.sort(Comparator.comparingInt((Integer id) -> -vocab.texts[id].length()).thenComparingInt(id -> id));
        return special.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Per-model attributes llama.cpp sets by name, since GGUF files do not carry them. */
    private void applyModelAttributes(String pre) {
        String name = md.getString("general.name", "").toLowerCase(Locale.ROOT);
        if (pre.contains("jina-v2-de") || pre.contains("jina-v2-es") || pre.contains("jina-v2-code")) {
            setAttr("<mask>", TokenAttr.LSTRIP, true);
        } else if (name.contains("phi-3") || name.contains("phi3")) {
            for (int id : vocab.specialTokens) vocab.attrs[id] |= TokenAttr.RSTRIP;
            setAttr("</s>", TokenAttr.RSTRIP, true);
            for (String t : List.of("<unk>", "<s>", "<|endoftext|>")) setAttr(t, TokenAttr.RSTRIP, false);
        }
    }

    private void setAttr(String text, int attr, boolean on) {
        int id = vocab.id(ByteText.utf8Of(text));
        if (id == Vocab.NULL) return;
        vocab.attrs[id] = on ? vocab.attrs[id] | attr : vocab.attrs[id] & ~attr;
    }
}
