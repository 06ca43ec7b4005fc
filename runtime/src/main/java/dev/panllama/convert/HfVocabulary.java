package dev.panllama.convert;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.gguf.GgufValueType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A byte-level BPE tokenizer from Hugging Face's {@code tokenizer.json} (with
 * {@code tokenizer_config.json} and {@code config.json} for the special tokens) as llama.cpp's
 * {@code tokenizer.ggml.*} keys, following convert_hf_to_gguf.py's _set_vocab_gpt2 and gguf-py's
 * SpecialVocab: ids without a token become {@code [PADn]} (unused), added tokens are control tokens
 * when special (or when they look special) and user-defined otherwise, merges are kept in order.
 *
 * <p>llama.cpp names the pre-tokenizer by hashing the tokens of a probe text; without the Hugging Face
 * library we recognise it from the pre-tokenizer's split expressions instead, for the families this
 * converter targets: {@code llama-bpe} (Llama 3), {@code qwen2} (Qwen 2, 2.5, 3), {@code tekken}
 * (Mistral Nemo and later), {@code deepseek-v3} and {@code gpt-2}. Any other fails with a message that
 * suggests {@code --vocab-from}.
 */
final class HfVocabulary {
    static final String FILE = "tokenizer.json";
    static final String CONFIG_FILE = "tokenizer_config.json";

    // llama.cpp token types (llama_token_type / gguf.TokenType).
    static final int NORMAL = 1;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;

    // The split expressions as tokenizer.json holds them (quoted in llama.cpp's src/llama-vocab.cpp
    // as the "original regex from tokenizer.json").
    static final String LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String TEKKEN_SPLIT = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final List<String> DEEPSEEK3_SPLITS = List.of("\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+",
            "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

    private HfVocabulary() {}

    /** Whether {@code dir} has a tokenizer this class reads. */
    static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE));
    }

    /** Puts the tokenizer.* keys of the tokenizer in {@code dir}; {@code vocabSize} is config.json's (or 0). */
    static void put(Path dir, HfConfig config, int vocabSize, MetadataBuilder md) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "no tokenizer.json");
        JsonNode root = HfConfig.readJson(file);
        JsonNode model = root.path("model");
        if (!model.path("type").asText("BPE").equals("BPE") || !model.path("vocab").isObject()) {
            throw new IOException(file + ": model.type " + model.path("type") + " is not a BPE vocabulary; use --vocab-from FILE.gguf");
        }
        if (model.path("byte_fallback").asBoolean(false)) {
            throw new IOException(file + ": a SentencePiece-style BPE (byte_fallback) vocabulary is not supported;"
                    + " use --vocab-from FILE.gguf with a GGUF of the same model");
        }
        String pre = detectPre(root.path("pre_tokenizer"));
        if (pre == null) {
            throw new IOException(file + ": pre-tokenizer " + root.path("pre_tokenizer")
                    + " is not one panllama recognises (llama-bpe, qwen2, tekken, deepseek-v3, gpt-2); use --vocab-from FILE.gguf");
        }

        Map<Integer, String> byId = new HashMap<>();
        int maxId = -1;
        for (Map.Entry<String, JsonNode> e : model.get("vocab").properties()) {
            int id = e.getValue().asInt(-1);
            if (id < 0) throw new IOException(file + ": model.vocab[" + e.getKey() + "] = " + e.getValue() + " is not a token id");
            byId.put(id, e.getKey());
            maxId = Math.max(maxId, id);
        }
        Map<Integer, Boolean> added = new HashMap<>();
        Map<String, Integer> addedByContent = new HashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            int id = t.path("id").asInt(-1);
            String content = t.path("content").asText(null);
            if (id < 0 || content == null) throw new IOException(file + ": added_tokens entry " + t + " has no id or content");
            byId.put(id, content);
            added.put(id, t.path("special").asBoolean(false));
            addedByContent.put(content, id);
            maxId = Math.max(maxId, id);
        }
        int size = vocabSize > 0 ? vocabSize : maxId + 1;
        if (maxId >= size) throw new IOException(file + ": token id " + maxId + " is outside config.json's vocab_size " + size);

        String[] tokens = new String[size];
        int[] types = new int[size];
        for (int i = 0; i < size; i++) {
            String tok = byId.get(i);
            if (tok == null) {
                tokens[i] = "[PAD" + i + "]";
                types[i] = UNUSED;
            } else if (added.containsKey(i)) {
                boolean control = added.get(i) || looksSpecial(tok);
                tokens[i] = control ? tok : tok.replace('\u2581', ' ');
                types[i] = control ? CONTROL : USER_DEFINED;
            } else {
                tokens[i] = tok;
                types[i] = NORMAL;
            }
        }
        md.putString("tokenizer.ggml.model", "gpt2");
        md.putString("tokenizer.ggml.pre", pre);
        md.putArray("tokenizer.ggml.tokens", GgufValueType.STRING, tokens);
        md.putArray("tokenizer.ggml.token_type", GgufValueType.INT32, types);
        md.putArray("tokenizer.ggml.merges", GgufValueType.STRING, merges(model.path("merges"), file));
        putSpecialTokens(dir, config, addedByContent, size, md);
    }

    private static String[] merges(JsonNode merges, Path file) throws IOException {
        String[] out = new String[merges.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode m = merges.get(i);
            if (m.isTextual()) {
                out[i] = m.asText();
            } else if (m.isArray() && m.size() == 2) {
                // tokenizers >= 0.20 writes a merge as a pair; llama.cpp keeps "left right".
                out[i] = m.get(0).asText() + " " + m.get(1).asText();
            } else {
                throw new IOException(file + ": model.merges[" + i + "] = " + m + " is not a merge");
            }
        }
        return out;
    }

    /** gguf-py's SpecialVocab: ids from tokenizer_config.json's token strings, else config.json's *_token_id. */
    private static void putSpecialTokens(Path dir, HfConfig config, Map<String, Integer> addedByContent, int size,
                                         MetadataBuilder md) throws IOException {
        Path tcFile = dir.resolve(CONFIG_FILE);
        JsonNode tc = Files.isRegularFile(tcFile) ? HfConfig.readJson(tcFile) : HfConfig.JSON.createObjectNode();
        String[][] kinds = {{"bos", "bos_token_id"}, {"eos", "eos_token_id"}, {"unk", "unknown_token_id"},
                {"sep", "seperator_token_id"}, {"pad", "padding_token_id"}};
        for (String[] k : kinds) {
            int id = -1;
            JsonNode t = tc.get(k[0] + "_token");
            String content = t == null ? null : t.isTextual() ? t.asText() : t.path("content").asText(null);
            if (content != null && addedByContent.containsKey(content)) id = addedByContent.get(content);
            if (id < 0 && config != null) {
                JsonNode c = config.root().get(k[0] + "_token_id");
                if (c != null && c.isArray() && !c.isEmpty()) c = c.get(0);
                if (c != null && c.canConvertToInt()) id = c.asInt();
            }
            if (id >= 0 && id < size) md.putU32("tokenizer.ggml." + k[1], id);
        }
        for (String flag : new String[]{"add_bos_token", "add_eos_token"}) {
            JsonNode f = tc.get(flag);
            if (f != null && f.isBoolean()) md.putBool("tokenizer.ggml." + flag, f.asBoolean());
        }
        JsonNode template = tc.get("chat_template");
        if (template != null && template.isTextual()) md.putString("tokenizer.chat_template", template.asText());
    }

    /** convert_hf_to_gguf.py's does_token_look_special. */
    static boolean looksSpecial(String t) {
        return t.equals("<pad>") || t.equals("<mask>") || t.equals("<2mass>") || t.equals("[@BOS@]")
                || (t.startsWith("<|") && t.endsWith("|>"))
                || (t.startsWith("<\uFF5C") && t.endsWith("\uFF5C>"))
                || (t.startsWith("<start_of_") && t.endsWith(">"))
                || (t.startsWith("<end_of_") && t.endsWith(">"));
    }

    /** The llama.cpp pre-tokenizer name of a tokenizer.json {@code pre_tokenizer}, or null. */
    static String detectPre(JsonNode preTokenizer) {
        List<String> splits = new ArrayList<>();
        Boolean byteLevelRegex = null;
        List<JsonNode> steps = new ArrayList<>();
        if (preTokenizer.path("type").asText("").equals("Sequence")) {
            preTokenizer.path("pretokenizers").forEach(steps::add);
        } else if (!preTokenizer.isMissingNode() && !preTokenizer.isNull()) {
            steps.add(preTokenizer);
        }
        for (JsonNode s : steps) {
            switch (s.path("type").asText("")) {
                case "Split" -> {
                    JsonNode pattern = s.path("pattern");
                    String regex = pattern.has("Regex") ? pattern.get("Regex").asText() : null;
                    if (regex == null) return null;
                    splits.add(escapeLineBreaks(regex));
                }
                case "ByteLevel" -> byteLevelRegex = s.path("use_regex").asBoolean(true);
                default -> { return null; }
            }
        }
        if (byteLevelRegex == null) return null;
        if (splits.isEmpty()) return byteLevelRegex ? "gpt-2" : null;
        if (byteLevelRegex) return null;
        if (splits.equals(List.of(LLAMA3_SPLIT))) return "llama-bpe";
        if (splits.equals(List.of(QWEN2_SPLIT))) return "qwen2";
        if (splits.equals(List.of(TEKKEN_SPLIT))) return "tekken";
        if (splits.equals(DEEPSEEK3_SPLITS)) return "deepseek-v3";
        return null;
    }

    /** Some tokenizer.json files hold raw CR/LF inside character classes, others their escapes; compare one form. */
    private static String escapeLineBreaks(String regex) {
        return regex.replace("\r", "\\r").replace("\n", "\\n");
    }
}
