package dev.panllama.tokenizer;

import dev.panllama.gguf.MappedGguf;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whole corpora: the SPM shortcut (cutting the text where no merge can reach across) must give
 * exactly the tokens of llama.cpp's single merge run, and text must survive encode/decode. Prints
 * the time each tokenization takes (the wikitext corpus is what perplexity tokenizes).
 */
class LargeCorpusTest {

    @Test
    void spmPiecewiseEqualsOneMergeRunAndRoundTrips() throws Exception {
        assertPiecewiseExact(Files.readString(TestFiles.bundled("text/tinystories_sample.txt")));
        String wiki = Files.readString(TestFiles.requireShared("testdata/text/wikitext-2-raw-v1.test.hf-crlf.raw"), StandardCharsets.UTF_8);
        assertPiecewiseExact(wiki);
    }

    private static void assertPiecewiseExact(String text) throws Exception {
        try (MappedGguf g = MappedGguf.open(TestFiles.bundled("llama.cpp-vocab/ggml-vocab-llama-spm.gguf"))) {
            Vocab vocab = VocabLoader.load(g.metadata());
            String escaped = ByteText.utf8Of(" " + text).replace(" ", PieceRenderer.SPACE_MARK);
            SpmEncoder encoder = new SpmEncoder(vocab);
            IntList whole = new IntList();
            long t0 = System.nanoTime();
            encoder.encodeWhole(escaped, whole);
            long t1 = System.nanoTime();
            IntList pieces = new IntList();
            encoder.encode(escaped, pieces);
            long t2 = System.nanoTime();
            System.out.printf("llama-spm, %,d bytes: one merge run %.0f ms, piecewise %.0f ms, %,d tokens%n",
                    escaped.length(), (t1 - t0) / 1e6, (t2 - t1) / 1e6, pieces.size());
            assertThat(pieces.toArray()).isEqualTo(whole.toArray());   // not containsExactly: far too slow on 300k ids

            Tokenizer tokenizer = new LlamaTokenizer(vocab);
            assertThat(tokenizer.decode(tokenizer.encode(text, false, false), false, false)).isEqualTo(text);
        }
    }

    @Test
    void bpeOnWikitext() throws Exception {
        byte[] text = Files.readAllBytes(TestFiles.requireShared("testdata/text/wikitext-2-raw-v1.test.hf-crlf.raw"));
        Path dir = TestFiles.requireShared("testdata/llama.cpp-vocab");
        for (String name : new String[]{"gpt-2", "deepseek-coder"}) {
            Tokenizer t = Tokenizer.fromFile(dir.resolve("ggml-vocab-" + name + ".gguf"));
            long t0 = System.nanoTime();
            int[] ids = t.encode(text, false, false);
            long t1 = System.nanoTime();
            System.out.printf("%s, wikitext %,d bytes: %,d tokens in %.0f ms%n", name, text.length, ids.length, (t1 - t0) / 1e6);
            assertThat(ids.length).isBetween(text.length / 6, text.length / 2);
            if (name.equals("deepseek-coder")) {   // no clean-up of spaces, so text comes back as it was
                assertThat(t.decodeBytes(ids, false, false)).isEqualTo(text);
            }
        }
    }
}
