package dev.panllama.tokenizer;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The BPE pre-tokenizers. llama.cpp evaluates the GPT-2 and Llama-3 regexes by hand-written code and
 * the others with std::regex; for these two both ways must cut text identically, which checks the
 * regex machinery ({@link RegexSplit}) against code that has llama.cpp's test suites behind it.
 */
class PreTokenizerTest {
    private static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    private static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static List<String> texts() throws Exception {
        List<String> texts = new ArrayList<>();
        for (byte[] input : VocabSuite.splitInputs(Files.readAllBytes(TestFiles.bundled("llama.cpp-vocab/ggml-vocab-gpt-2.gguf.inp")))) {
            texts.add(ByteText.of(input));
        }
        texts.add(ByteText.of(Files.readAllBytes(TestFiles.bundled("text/tinystories_sample.txt"))));
        texts.add(ByteText.utf8Of("It'S 12345 don'T \u00A0\u2003x\r\n\r\n  \t\n y\u0301 \uD83E\uDD99\uD83E\uDD99 ..."));
        texts.add("\u00FF\u0080broken utf-8 \u00E2\u0096");
        return texts;
    }

    private static int[] pieces(SplitPass pass, String bytes) {
        int[] cps = Utf8.decode(bytes);
        IntList whole = new IntList();
        whole.add(cps.length);
        return pass.split(cps, whole).toArray();
    }

    @Test
    void handWrittenGpt2AndLlama3AgreeWithTheirRegexes() throws Exception {
        for (String text : texts()) {
            assertThat(pieces(new Gpt2Split(), text)).as("gpt2 on " + text).containsExactly(pieces(new RegexSplit(GPT2), text));
            assertThat(pieces(new Llama3Split(), text)).as("llama3 on " + text).containsExactly(pieces(new RegexSplit(LLAMA3), text));
        }
    }

    @ParameterizedTest
    @EnumSource(BpePreType.class)
    void everyPreTokenizerCoversItsInput(BpePreType type) throws Exception {
        BpePreTokenizer pre = new BpePreTokenizer(type);
        for (String text : texts()) {
            StringBuilder joined = new StringBuilder();
            for (String word : pre.words(text)) joined.append(PieceRenderer.fromByteLevel(word));
            // invalid UTF-8 comes back as U+FFFD, as llama.cpp's pre-tokenizer returns it
            String expected = Utf8.encode(Utf8.decode(text), 0, Utf8.decode(text).length);
            assertThat(joined.toString()).as(type + " on " + text).isEqualTo(expected);
        }
    }

    @Test
    void llamaCppCategoriesForAsciiAreItsOwn() {
        // llama.cpp's collapsed \p{S} omits '~' (it lists $+<=>^`| only), so "~~" is not a symbol run there
        int[] cps = "a~~".codePoints().toArray();
        IntList whole = new IntList();
        whole.add(cps.length);
        assertThat(new RegexSplit("\\p{S}+").split(cps, whole).toArray()).containsExactly(3);
        int[] dollars = "a$$".codePoints().toArray();
        assertThat(new RegexSplit("\\p{S}+").split(dollars, whole).toArray()).containsExactly(1, 2);
        assertThat(new String(ByteText.bytes(new BpePreTokenizer(BpePreType.GPT2).words(ByteText.utf8Of("Hi there")).get(1)),
                StandardCharsets.UTF_8)).isEqualTo("Ġthere");
    }
}
