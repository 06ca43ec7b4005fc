package dev.panllama.convert;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panllama.gguf.GgufMetadata;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.testing.TestFiles;
import dev.panllama.tokenizer.Tokenizer;
import dev.panllama.tokenizer.VocabSuite;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * tokenizer.json to llama.cpp's tokenizer keys. No Hugging Face tokenizer.json ships with the test data,
 * so each test writes one, laid out as the tokenizers library does, from a vocabulary llama.cpp
 * converted (its GGUF): the conversion must give back that GGUF's tokens, types and merges, and the
 * tokenizer built from them must pass llama.cpp's test-tokenizer-0 cases for that vocabulary.
 */
class HfVocabularyTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void gpt2TokenizerJsonRoundTripsAndTokenizesLikeLlamaCpp(@TempDir Path dir) throws IOException {
        Path gguf = TestFiles.bundled("llama.cpp-vocab/ggml-vocab-gpt-2.gguf");
        ObjectNode pre = JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", true);
        GgufMetadata md = roundTrip(gguf, pre, "<|endoftext|>", dir);
        assertThat(md.getString("tokenizer.ggml.pre")).isEqualTo("gpt-2");
        assertThat(md.getInt("tokenizer.ggml.bos_token_id")).isEqualTo(50256);
        assertThat(md.getInt("tokenizer.ggml.eos_token_id")).isEqualTo(50256);
        runSuite(md, VocabSuite.in(gguf.getParent(), "gpt-2"));
    }

    /** DBRX's tokenizer splits with Llama 3's expression, which names the llama-bpe pre-tokenizer. */
    @Test
    void llama3StyleTokenizerJsonTokenizesLikeLlamaCpp(@TempDir Path dir) throws IOException {
        Path gguf = TestFiles.requireShared("testdata/llama.cpp-vocab-pr7132/ggml-vocab-dbrx.gguf");
        ObjectNode pre = JSON.createObjectNode().put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false)
                .putObject("pattern").put("Regex", HfVocabulary.LLAMA3_SPLIT);
        steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", false);
        GgufMetadata md = roundTrip(gguf, pre, "<|endoftext|>", dir);
        assertThat(md.getString("tokenizer.ggml.pre")).isEqualTo("llama-bpe");
        runSuite(md, VocabSuite.in(gguf.getParent(), "dbrx"));
    }

    @Test
    void preTokenizersAreRecognisedByTheirSplitExpressions() throws IOException {
        assertThat(HfVocabulary.detectPre(split(HfVocabulary.QWEN2_SPLIT))).isEqualTo("qwen2");
        assertThat(HfVocabulary.detectPre(split(HfVocabulary.LLAMA3_SPLIT))).isEqualTo("llama-bpe");
        assertThat(HfVocabulary.detectPre(split(HfVocabulary.TEKKEN_SPLIT))).isEqualTo("tekken");
        assertThat(HfVocabulary.detectPre(split(HfVocabulary.DEEPSEEK3_SPLITS.toArray(String[]::new)))).isEqualTo("deepseek-v3");
        // tokenizer.json files written with raw line breaks inside the classes mean the same.
        assertThat(HfVocabulary.detectPre(split(HfVocabulary.QWEN2_SPLIT.replace("\\r", "\r").replace("\\n", "\n")))).isEqualTo("qwen2");
        assertThat(HfVocabulary.detectPre(split("\\p{N}+"))).isNull();
        assertThat(HfVocabulary.detectPre(JSON.readTree("{\"type\": \"Metaspace\", \"replacement\": \"\u2581\"}"))).isNull();
        assertThat(HfVocabulary.detectPre(JSON.readTree("{\"type\": \"ByteLevel\", \"use_regex\": true}"))).isEqualTo("gpt-2");
        assertThat(HfVocabulary.looksSpecial("<|im_start|>")).isTrue();
        assertThat(HfVocabulary.looksSpecial("<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>")).isTrue();
        assertThat(HfVocabulary.looksSpecial("hello")).isFalse();
    }

    @Test
    void unknownPreTokenizerSuggestsVocabFrom(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve(HfVocabulary.FILE), """
                {"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                   {"type": "Split", "pattern": {"Regex": "\\\\p{N}+"}}, {"type": "ByteLevel", "use_regex": false}]}}""");
        assertThatThrownBy(() -> HfVocabulary.put(dir, null, 1, new MetadataBuilder()))
                .hasMessageContaining("pre-tokenizer").hasMessageContaining("--vocab-from");
        Files.writeString(dir.resolve(HfVocabulary.FILE), """
                {"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}""");
        assertThatThrownBy(() -> HfVocabulary.put(dir, null, 1, new MetadataBuilder()))
                .hasMessageContaining("not a BPE vocabulary");
    }

    private static ObjectNode split(String... regexes) {
        ObjectNode pre = JSON.createObjectNode().put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        for (String r : regexes) steps.addObject().put("type", "Split").putObject("pattern").put("Regex", r);
        steps.addObject().put("type", "ByteLevel").put("use_regex", false);
        return pre;
    }

    /**
     * Writes tokenizer.json / tokenizer_config.json from {@code gguf}'s vocabulary (control and
     * user-defined tokens as added tokens, unused [PADn] ids left out), converts them back, and checks
     * tokens, types and merges against the GGUF's.
     */
    private static GgufMetadata roundTrip(Path gguf, ObjectNode pre, String bos, Path dir) throws IOException {
        String[] tokens;
        int[] types;
        String[] merges;
        try (MappedGguf g = MappedGguf.open(gguf)) {
            tokens = g.metadata().getArray("tokenizer.ggml.tokens").strings();
            types = g.metadata().getArray("tokenizer.ggml.token_type").toIntArray();
            merges = g.metadata().getArray("tokenizer.ggml.merges").strings();
        }
        ObjectNode root = JSON.createObjectNode().put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode model = JSON.createObjectNode().put("type", "BPE").put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < tokens.length; i++) {
            switch (types[i]) {
                case HfVocabulary.UNUSED -> { }
                case HfVocabulary.CONTROL, HfVocabulary.USER_DEFINED -> added.addObject().put("id", i).put("content", tokens[i])
                        .put("special", types[i] == HfVocabulary.CONTROL);
                default -> vocab.put(tokens[i], i);
            }
        }
        ArrayNode m = model.putArray("merges");
        for (String s : merges) {
            String[] pair = s.split(" ", 2);
            m.addArray().add(pair[0]).add(pair[1]);       // the tokenizers >= 0.20 pair form
        }
        root.set("pre_tokenizer", pre);
        root.set("model", model);
        Files.writeString(dir.resolve(HfVocabulary.FILE), root.toString());
        Files.writeString(dir.resolve(HfVocabulary.CONFIG_FILE), JSON.createObjectNode()
                .put("bos_token", bos).put("eos_token", bos).put("add_bos_token", false).toString());

        MetadataBuilder md = new MetadataBuilder();
        HfVocabulary.put(dir, null, tokens.length, md);
        GgufMetadata out = md.build();
        assertThat(out.getArray("tokenizer.ggml.tokens").strings()).containsExactly(tokens);
        assertThat(out.getArray("tokenizer.ggml.token_type").toIntArray()).containsExactly(types);
        assertThat(out.getArray("tokenizer.ggml.merges").strings()).containsExactly(merges);
        assertThat(out.getBool("tokenizer.ggml.add_bos_token")).isFalse();
        return out;
    }

    private static void runSuite(GgufMetadata md, VocabSuite suite) throws IOException {
        Tokenizer tokenizer = Tokenizer.fromMetadata(md);
        List<String> failures = suite.failures(tokenizer);
        System.out.println("tokenizer.json -> GGUF, " + suite.name() + ": " + (suite.cases().size() - failures.size())
                + "/" + suite.cases().size() + " llama.cpp cases passed");
        failures.stream().limit(5).forEach(f -> System.out.println("  FAILED " + f));
        assertThat(failures).isEmpty();
    }
}
