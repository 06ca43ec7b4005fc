package dev.panllama.tokenizer;

import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufMetadata;
import dev.panllama.gguf.GgufValueType;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tokenizer behaviour against llama.cpp c392e50: golden token ids (exact), and the rules of
 * llama_tokenize / llama_token_to_piece / llama_detokenize read from llama-vocab.cpp.
 */
class TokenizerTest {
    private static Tokenizer stories;
    private static Tokenizer bert;
    private static Tokenizer gpt2;
    private static Tokenizer llamaSpm;
    private static GgufMetadata storiesMetadata;
    private static MappedGguf storiesFile;

    @BeforeAll
    static void load() throws Exception {
        storiesFile = MappedGguf.open(TestFiles.stories260K());   // metadata arrays are views of the mapping
        storiesMetadata = storiesFile.metadata();
        stories = Tokenizer.fromMetadata(storiesMetadata);
        bert = Tokenizer.fromFile(TestFiles.bundled("llama.cpp-vocab/ggml-vocab-bert-bge.gguf"));
        gpt2 = Tokenizer.fromFile(TestFiles.bundled("llama.cpp-vocab/ggml-vocab-gpt-2.gguf"));
        llamaSpm = Tokenizer.fromFile(TestFiles.bundled("llama.cpp-vocab/ggml-vocab-llama-spm.gguf"));
    }

    @AfterAll
    static void close() {
        storiesFile.close();
    }

    /** The metadata with some entries replaced or added (entries keep the file's order). */
    private static GgufMetadata copy(GgufMetadata md, Map<String, GgufEntry> changes) {
        Map<String, GgufEntry> entries = new LinkedHashMap<>();
        for (GgufEntry e : md.entries()) entries.put(e.key(), e);
        entries.putAll(changes);
        return GgufMetadata.of(entries);
    }

    private static GgufEntry entry(String key, GgufValueType type, Object value) {
        return new GgufEntry(key, type, value, -1);
    }

    @Test
    void stories260KMatchesLlamaTokenizeOnTheTinyStoriesSample() throws Exception {
        byte[] text = Files.readAllBytes(TestFiles.bundled("text/tinystories_sample.txt"));
        String golden = Files.readString(TestFiles.bundled("golden-llama.cpp-c392e50/stories260K.tokens.tinystories_sample.txt")).strip();
        int[] expected = Arrays.stream(golden.substring(1, golden.length() - 1).split(", ")).mapToInt(Integer::parseInt).toArray();
        assertThat(expected).hasSize(1883);

        int[] ids = stories.encode(text, true, false);
        assertThat(ids).containsExactly(expected);
        assertThat(ids[0]).isEqualTo(1);
    }

    @Test
    void onceUponATime() {
        assertThat(stories.encode("Once upon a time", true, false)).containsExactly(1, 403, 407, 261, 378);
        assertThat(stories.encode("Once upon a time", false, false)).containsExactly(403, 407, 261, 378);
        assertThat(stories.encode("", true, false)).containsExactly(1);
        assertThat(stories.encode("", false, false)).isEmpty();
    }

    @Test
    void decodeRoundTripsAndStripsTheSpmSpacePrefix() throws Exception {
        String text = Files.readString(TestFiles.bundled("text/tinystories_sample.txt"), StandardCharsets.UTF_8);
        assertThat(stories.decode(stories.encode(text, false, false), false, false)).isEqualTo(text);
        // llama.cpp keeps the prefix space when it removes a leading BOS (remove_space = false there)
        assertThat(stories.decode(stories.encode(text, true, false), true, false)).isEqualTo(" " + text);
        assertThat(stories.decode(new int[]{1, 403, 407}, false, true)).isEqualTo("<s> Once upon");
        assertThat(stories.decode(new int[]{403, 407}, false, false)).isEqualTo("Once upon");
    }

    @Test
    void parseSpecialSplitsControlTokenTextsOnlyWhenAsked() {
        int[] parsed = stories.encode("<s>Once", false, true);
        assertThat(parsed).containsExactly(1, 403);   // a space is prefixed again after a special token
        int[] plain = stories.encode("<s>Once", false, false);
        assertThat(plain).doesNotContain(1);
        assertThat(stories.decode(plain, false, false)).isEqualTo("<s>Once");
        assertThat(stories.encode("Once</s>", false, true)).endsWith(2);
    }

    @Test
    void addBosAndAddEosFollowTheMetadata() {
        assertThat(stories.addBos()).isTrue();
        assertThat(stories.addEos()).isFalse();
        Tokenizer flipped = Tokenizer.fromMetadata(copy(storiesMetadata, Map.of(
                "tokenizer.ggml.add_bos_token", entry("tokenizer.ggml.add_bos_token", GgufValueType.BOOL, false),
                "tokenizer.ggml.add_eos_token", entry("tokenizer.ggml.add_eos_token", GgufValueType.BOOL, true))));
        assertThat(flipped.addBos()).isFalse();
        assertThat(flipped.addEos()).isTrue();
        assertThat(flipped.encode("Once upon a time", true, false)).containsExactly(403, 407, 261, 378, 2);
        assertThat(flipped.decode(new int[]{403, 407, 2}, true, true)).isEqualTo("Once upon");

        assertThat(gpt2.addBos()).isFalse();   // BPE default; gpt-2 has no add_bos key
        assertThat(gpt2.encode("Hello world", true, false)).containsExactly(15496, 995);
    }

    @Test
    void specialIdsAndEndOfGeneration() {
        assertThat(stories.bos()).isEqualTo(1);
        assertThat(stories.eos()).isEqualTo(2);
        assertThat(stories.unk()).isZero();
        assertThat(stories.sep()).isEqualTo(-1);   // 0xFFFFFFFF in the file: "bad special token", default kept (none)
        assertThat(stories.pad()).isEqualTo(-1);
        assertThat(stories.eot()).isEqualTo(-1);
        assertThat(stories.isEog(2)).isTrue();
        assertThat(stories.isEog(1)).isFalse();
        assertThat(stories.isControl(1)).isTrue();
        assertThat(stories.isControl(403)).isFalse();
        assertThat(stories.tokenText(403)).isEqualTo("▁Once");
        assertThat(stories.vocabSize()).isEqualTo(512);
        assertThat(stories.type()).isEqualTo(VocabType.SPM);

        // gpt-2: <|endoftext|> is found by its text as end-of-turn
        assertThat(gpt2.eot()).isEqualTo(50256);
        assertThat(gpt2.isEog(50256)).isTrue();
        assertThat(gpt2.type()).isEqualTo(VocabType.BPE);
    }

    @Test
    void piecesOfControlTokensOnlyWhenSpecial() {
        assertThat(stories.tokenToPiece(1, false)).isEmpty();
        assertThat(new String(stories.tokenToPiece(1, true), StandardCharsets.UTF_8)).isEqualTo("<s>");
        assertThat(new String(stories.tokenToPiece(403, false), StandardCharsets.UTF_8)).isEqualTo(" Once");
        assertThat(new String(gpt2.tokenToPiece(995, false), StandardCharsets.UTF_8)).isEqualTo(" world");
        assertThatThrownBy(() -> stories.tokenToPiece(512, true)).hasMessageContaining("out of range");
    }

    @Test
    void byteFallbackTokensStreamBackIntoCharacters() {
        int[] ids = stories.encode("🦙", false, false);
        // ▁ then the four UTF-8 bytes of U+1F999 as <0xF0> <0x9F> <0xA6> <0x99> (ids 3 + byte)
        assertThat(Arrays.copyOfRange(ids, ids.length - 4, ids.length)).containsExactly(3 + 0xF0, 3 + 0x9F, 3 + 0xA6, 3 + 0x99);
        Utf8StreamDecoder stream = new Utf8StreamDecoder();
        StringBuilder shown = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            String out = stream.accept(stories.tokenToPiece(ids[i], false));
            if (i >= ids.length - 4 && i < ids.length - 1) assertThat(out).as("held back at piece " + i).isEmpty();
            shown.append(out);
        }
        assertThat(shown.toString()).endsWith("🦙");
        assertThat(stream.pendingBytes()).isZero();
        assertThat(stories.decode(ids, false, false)).isEqualTo("🦙");
    }

    @Test
    void streamDecoderReplacesAnUnfinishedCharacterOnFlush() {
        Utf8StreamDecoder stream = new Utf8StreamDecoder();
        assertThat(stream.accept(new byte[]{'a', (byte) 0xC3})).isEqualTo("a");
        assertThat(stream.accept(new byte[]{(byte) 0xA9, 'b', (byte) 0xE2, (byte) 0x82})).isEqualTo("éb");
        assertThat(stream.pendingBytes()).isEqualTo(2);
        assertThat(stream.flush()).isEqualTo("\uFFFD");
        assertThat(stream.accept(new byte[]{(byte) 0xFF, 'x'})).isEqualTo("\uFFFDx");   // malformed never blocks
    }

    @Test
    void wordPieceNormalisesLikeBert() {
        int[] ids = bert.encode("Hello World!", true, false);
        assertThat(ids[0]).isEqualTo(101);
        assertThat(ids[ids.length - 1]).isEqualTo(102);
        assertThat(Arrays.stream(ids).mapToObj(bert::tokenText).toList())
                .containsExactly("[CLS]", "▁hello", "▁world", "▁!", "[SEP]");
        assertThat(bert.decode(ids, true, false)).isEqualTo(" hello world!");

        assertThat(texts(bert, "Café Über")).containsExactly("▁cafe", "▁uber");          // accents stripped, lowercased
        assertThat(texts(bert, "中文")).containsExactly("▁中", "▁文");                    // CJK ideographs one by one
        assertThat(texts(bert, "unaffable")).first().isEqualTo("▁una");                   // continuation pieces carry no marker
        assertThat(bert.encode("\u0378\u0379", false, false)).containsExactly(100);    // unassigned letters: [UNK]
        assertThat(bert.type()).isEqualTo(VocabType.WPM);
    }

    private static java.util.List<String> texts(Tokenizer t, String s) {
        return Arrays.stream(t.encode(s, false, false)).mapToObj(t::tokenText).toList();
    }

    @Test
    void bpeCleansSpacesOnDecode() {
        int[] ids = gpt2.encode("Hello , world ! I 'm here", false, false);
        assertThat(gpt2.decode(ids, false, false)).isEqualTo("Hello, world! I'm here");
        assertThat(SpaceCleaner.clean("a ' b")).isEqualTo("a'b");
        assertThat(SpaceCleaner.clean("don 't , we 're")).isEqualTo("don 't, we're");
        assertThat(SpaceCleaner.clean("a ' ' b")).isEqualTo("a'' b");
    }

    @Test
    void unsupportedAndMissingTokenizersFailClearly() throws Exception {
        GgufMetadata t5 = copy(storiesMetadata, Map.of("tokenizer.ggml.model", entry("tokenizer.ggml.model", GgufValueType.STRING, "t5")));
        assertThatThrownBy(() -> Tokenizer.fromMetadata(t5)).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("tokenizer 't5'").hasMessageContaining("not supported");
        GgufMetadata none = GgufMetadata.of(Map.of());
        assertThatThrownBy(() -> Tokenizer.fromMetadata(none)).hasMessageContaining("tokenizer.ggml.model is missing");
        GgufMetadata noMerges = copy(storiesMetadata, Map.of("tokenizer.ggml.model", entry("tokenizer.ggml.model", GgufValueType.STRING, "gpt2")));
        assertThatThrownBy(() -> Tokenizer.fromMetadata(noMerges)).hasMessageContaining("cannot find the BPE merges");
        try (MappedGguf g = MappedGguf.open(TestFiles.bundled("llama.cpp-vocab/ggml-vocab-gpt-2.gguf"))) {
            GgufMetadata badPre = copy(g.metadata(), Map.of("tokenizer.ggml.pre", entry("tokenizer.ggml.pre", GgufValueType.STRING, "nonesuch")));
            assertThatThrownBy(() -> Tokenizer.fromMetadata(badPre)).hasMessage("unknown pre-tokenizer type 'nonesuch' (tokenizer.ggml.pre)");
        }
    }

    /**
     * Edge cases (special-token texts, invalid UTF-8, characters unknown to the vocabulary or new in
     * Unicode 16) with the ids llama-tokenize of llama.cpp c392e50 printed for them ({@code --ids
     * --no-escape}, add_special as the model's add_bos, parse_special on unless noted). In the inputs,
     * {xx} is a raw byte; the \\u escapes are the compiler's.
     */
    @ParameterizedTest(name = "{0} {3}")
    @CsvSource(delimiter = ';', textBlock = """
            llama-spm ; true  ; true  ; <s>Hello</s> world                   ; 1 1 15043 2 29871 3186
            llama-spm ; true  ; false ; <s>Hello</s> world                   ; 1 529 29879 29958 10994 829 29879 29958 3186
            llama-spm ; false ; false ; bad {ff}{c3}( utf{e2}{82}            ; 4319 29871 258 198 43 229 153 132 9420 229 133
            llama-spm ; false ; false ; Ⅻ \u1c89 x\u0301                     ; 29871 229 136 174 29871 228 181 140 921 30103
            gpt-2     ; false ; true  ; <|endoftext|>Hi there<|endoftext|>   ; 50256 17250 612 50256
            gpt-2     ; false ; false ; <|endoftext|>Hi there<|endoftext|>   ; 27 91 437 1659 5239 91 29 17250 612 27 91 437 1659 5239 91 29
            gpt-2     ; false ; false ; bad {ff}{c3}( utf{e2}{82} \u1c89 🦙  {09}{0a} ; 14774 220 6353 7 3384 69 6353 28053 110 231 12520 99 247 220 220 197 198
            bert-bge  ; true  ; true  ; [CLS] Café 中文 🦙 naïve Über           ; 101 101 7668 1746 1861 100 15743 19169 102
            bert-bge  ; true  ; false ; [CLS] Café 中文 🦙 naïve Über           ; 101 1031 18856 2015 1033 7668 1746 1861 100 15743 19169 102
            bert-bge  ; true  ; true  ; bad {ff}{c3}( utf \u1c89 x\u0301     ; 101 2919 1006 21183 2546 100 100 102
            """)
    void matchesLlamaTokenizeOnEdgeCases(String vocab, boolean addSpecial, boolean parseSpecial, String input, String expected) {
        Tokenizer t = switch (vocab) {
            case "llama-spm" -> llamaSpm;
            case "gpt-2" -> gpt2;
            default -> bert;
        };
        int[] ids = Arrays.stream(expected.split(" ")).mapToInt(Integer::parseInt).toArray();
        assertThat(t.encode(rawInput(input), addSpecial, parseSpecial)).containsExactly(ids);
    }

    /** UTF-8 of the text, with {xx} as a raw byte. */
    private static byte[] rawInput(String spec) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{([0-9a-f]{2})}").matcher(spec);
        int last = 0;
        while (m.find()) {
            out.writeBytes(spec.substring(last, m.start()).getBytes(StandardCharsets.UTF_8));
            out.write(Integer.parseInt(m.group(1), 16));
            last = m.end();
        }
        out.writeBytes(spec.substring(last).getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    @Test
    void regexTranslationKeepsStdRegexMeaning() {
        int[] cps = "ab  \n".codePoints().toArray();
        IntList whole = new IntList();
        whole.add(cps.length);
        // $ is the end of the segment only, never "before a final line break" as in Java
        assertThat(new RegexSplit("\\s+$").split(cps, whole).toArray()).containsExactly(2, 3);
        // '[' inside a class is a literal in ECMAScript
        int[] brackets = "x[y".codePoints().toArray();
        IntList all = new IntList();
        all.add(brackets.length);
        assertThat(new RegexSplit("[\\[x]").split(brackets, all).toArray()).containsExactly(1, 1, 1);
    }
}
