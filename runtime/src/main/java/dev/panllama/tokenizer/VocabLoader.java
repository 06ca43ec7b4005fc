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
    private final Vocab v = new Vocab();

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
        v.addSpacePrefix = md.getBool(KEY + "add_space_prefix", v.addSpacePrefix);

        readTokens();
        v.indexByteTokens();
        readSpecialIds();
        v.addBos = md.getBool(KEY + "add_bos_token", v.addBos);
        v.addEos = md.getBool(KEY + "add_eos_token", v.addEos);
        detectSpecialTokensByText();
        collectEndOfGeneration();
        v.specialTokens = specialTokensLongestFirst();
        v.pieces = PieceRenderer.renderAll(v);
        applyModelAttributes(pre);
        return v;
    }

    private void chooseType(String model, String pre) {
        switch (model) {
            case "llama" -> {
                v.type = VocabType.SPM;
                v.bos = 1;
                v.eos = 2;
                v.unk = 0;
                v.addSpacePrefix = true;
                v.addBos = true;
            }
            case "bert" -> {
                v.type = VocabType.WPM;
                v.bos = 101;
                v.unk = 100;
                v.sep = 102;
                v.pad = 0;
                v.cleanSpaces = true;
                v.addBos = true;
            }
            case "gpt2" -> {
                v.type = VocabType.BPE;
                v.bos = 11;
                v.eos = 11;
                v.cleanSpaces = true;
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
        v.preType = setup.type();
        v.cleanSpaces = setup.cleanSpaces();
        v.ignoreMerges = setup.ignoreMerges();
        if (setup.addBos()) v.addBos = true;
        if (setup.noDefaultBos()) v.bos = Vocab.NULL;
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
        v.texts = texts;
        v.scores = scores;
        v.attrs = attrs;
        v.ids = ids;
        v.maxTokenLength = maxLength;
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
        v.mergeRanks = ranks;
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
        specialId("bos_token_id", () -> v.bos, id -> v.bos = id);
        specialId("eos_token_id", () -> v.eos, id -> v.eos = id);
        specialId("eot_token_id", () -> v.eot, id -> v.eot = id);
        specialId("eom_token_id", () -> v.eom, id -> v.eom = id);
        specialId("unknown_token_id", () -> v.unk, id -> v.unk = id);
        specialId("seperator_token_id", () -> v.sep, id -> v.sep = id);
        specialId("padding_token_id", () -> v.pad, id -> v.pad = id);
        specialId("fim_pre_token_id", () -> v.fimPre, id -> v.fimPre = id);
        specialId("fim_suf_token_id", () -> v.fimSuf, id -> v.fimSuf = id);
        specialId("fim_mid_token_id", () -> v.fimMid, id -> v.fimMid = id);
        specialId("fim_pad_token_id", () -> v.fimPad, id -> v.fimPad = id);
        specialId("fim_rep_token_id", () -> v.fimRep, id -> v.fimRep = id);
        specialId("fim_sep_token_id", () -> v.fimSep, id -> v.fimSep = id);
        // deprecated names of the first three
        specialId("prefix_token_id", () -> v.fimPre, id -> v.fimPre = id);
        specialId("suffix_token_id", () -> v.fimSuf, id -> v.fimSuf = id);
        specialId("middle_token_id", () -> v.fimMid, id -> v.fimMid = id);
    }

    /** An id key overrides the default only when it names a token; otherwise llama.cpp warns and keeps the default. */
    private void specialId(String name, IntSupplier current, IntConsumer set) {
        if (!md.contains(KEY + name)) return;
        long id = md.getLong(KEY + name);
        if (id < 0 || id >= v.size()) {
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
        for (int id = v.size() - 1; id >= 0; id--) {
            String text = ByteText.decodeUtf8(v.texts[id]);
            if (v.eot == Vocab.NULL && EOT_TEXTS.contains(text)) v.eot = markControl(id);
            if (v.eom == Vocab.NULL && text.equals("<|eom_id|>")) v.eom = markControl(id);
            if (v.fimPre == Vocab.NULL && List.of("<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>", "<PRE>").contains(text)) v.fimPre = markControl(id);
            if (v.fimSuf == Vocab.NULL && List.of("<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>", "<SUF>").contains(text)) v.fimSuf = markControl(id);
            if (v.fimMid == Vocab.NULL && List.of("<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>", "<MID>").contains(text)) v.fimMid = markControl(id);
            if (v.fimPad == Vocab.NULL && List.of("<|fim_pad|>", "<fim-pad>", "<PAD>").contains(text)) v.fimPad = markControl(id);
            if (v.fimRep == Vocab.NULL && List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>").contains(text)) v.fimRep = markControl(id);
            if (v.fimSep == Vocab.NULL && text.equals("<|file_sep|>")) v.fimSep = markControl(id);
        }
    }

    private int markControl(int id) {
        if (!v.has(id, TokenAttr.CONTROL)) {
            LOG.log(System.Logger.Level.WARNING, "control-looking token " + id + " '" + ByteText.decodeUtf8(v.texts[id])
                    + "' was not control-type; this is probably a bug in the model. its type will be overridden");
            v.attrs[id] = TokenAttr.CONTROL;
        }
        return id;
    }

    private void collectEndOfGeneration() {
        for (int id : new int[]{v.fimPad, v.fimRep, v.fimSep}) if (id != Vocab.NULL) v.endOfGeneration.set(id);
        for (int id = 0; id < v.size(); id++) {
            if (EOG_TEXTS.contains(ByteText.decodeUtf8(v.texts[id]))) {
                v.endOfGeneration.set(markControl(id));
            }
        }
        for (int id : new int[]{v.eos, v.eot, v.eom}) {
            if (id != Vocab.NULL && !v.endOfGeneration.get(id)) {
                v.endOfGeneration.set(id);
                LOG.log(System.Logger.Level.DEBUG, "special token " + id + " is not among the end-of-generation texts; added");
            }
        }
    }

    private int[] specialTokensLongestFirst() {
        List<Integer> special = new ArrayList<>();
        for (int id = 0; id < v.size(); id++) {
            if (v.has(id, TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN)) special.add(id);
        }
        special.sort(Comparator.comparingInt((Integer id) -> -v.texts[id].length()).thenComparingInt(id -> id));
        return special.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Per-model attributes llama.cpp sets by name, since GGUF files do not carry them. */
    private void applyModelAttributes(String pre) {
        String name = md.getString("general.name", "").toLowerCase(Locale.ROOT);
        if (pre.contains("jina-v2-de") || pre.contains("jina-v2-es") || pre.contains("jina-v2-code")) {
            setAttr("<mask>", TokenAttr.LSTRIP, true);
        } else if (name.contains("phi-3") || name.contains("phi3")) {
            for (int id : v.specialTokens) v.attrs[id] |= TokenAttr.RSTRIP;
            setAttr("</s>", TokenAttr.RSTRIP, true);
            for (String t : List.of("<unk>", "<s>", "<|endoftext|>")) setAttr(t, TokenAttr.RSTRIP, false);
        }
    }

    private void setAttr(String text, int attr, boolean on) {
        int id = v.id(ByteText.utf8Of(text));
        if (id == Vocab.NULL) return;
        v.attrs[id] = on ? v.attrs[id] | attr : v.attrs[id] & ~attr;
    }
}
