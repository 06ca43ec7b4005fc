package dev.panllama.cli;

import dev.panllama.gguf.GgufWriter;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class TokenizeCommandTest {
    private static final String STORIES = TestFiles.stories260K().toString();

    @Test
    void printsPiecesLikeLlamaTokenize() {
        CliRun r = CliRun.of("tokenize", "-m", STORIES, "-p", "Once upon a time", "--show-count");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("""
                     1 -> '<s>'
                   403 -> ' Once'
                   407 -> ' upon'
                   261 -> ' a'
                   378 -> ' time'
                Total number of tokens: 5
                """);
    }

    @Test
    void idsMatchLlamaTokenizeOnTheTinyStoriesSample() throws Exception {
        Path sample = TestFiles.bundled("text/tinystories_sample.txt");
        CliRun r = CliRun.of("tokenize", "-m", STORIES, "-f", sample.toString(), "--ids");
        assertThat(r.exitCode()).isZero();
        // the golden file is llama-tokenize --ids output, byte for byte
        assertThat(r.out()).isEqualTo(Files.readString(TestFiles.bundled("golden-llama.cpp-c392e50/stories260K.tokens.tinystories_sample.txt")));
    }

    @Test
    void noBosAndParseSpecial() {
        assertThat(CliRun.of("tokenize", "-m", STORIES, "-p", "Once upon a time", "--ids", "--no-bos").out()).isEqualTo("[403, 407, 261, 378]\n");
        assertThat(CliRun.of("tokenize", "-m", STORIES, "-p", "<s>Once", "--ids", "--no-bos", "--parse-special").out()).isEqualTo("[1, 403]\n");
        assertThat(CliRun.of("tokenize", "-m", STORIES, "-p", "<s>Once", "--ids", "--no-bos").out()).doesNotContain("[1,");
    }

    @Test
    void defaultsToTheBundledModel() {
        String home = System.getProperty("panllama.home");
        System.setProperty("panllama.home", TestFiles.root().toString());
        try {
            assertThat(CliRun.of("tokenize", "-p", "Once upon a time", "--ids").out()).isEqualTo("[1, 403, 407, 261, 378]\n");
        } finally {
            if (home == null) System.clearProperty("panllama.home");
            else System.setProperty("panllama.home", home);
        }
    }

    @Test
    void worksOnVocabOnlyFiles() {
        String gpt2 = TestFiles.bundled("llama.cpp-vocab/ggml-vocab-gpt-2.gguf").toString();
        CliRun r = CliRun.of("tokenize", "-m", gpt2, "-p", "Hello world");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo(" 15496 -> 'Hello'\n   995 -> ' world'\n");
        String bert = TestFiles.bundled("llama.cpp-vocab/ggml-vocab-bert-bge.gguf").toString();
        assertThat(CliRun.of("tokenize", "-m", bert, "-p", "Hello", "--ids").out()).isEqualTo("[101, 7592, 102]\n");
    }

    @Test
    void partialUtf8PiecesAreShownAsBytes() {
        CliRun r = CliRun.of("tokenize", "-m", STORIES, "-p", "🦙", "--no-bos");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("   243 -> '<f0>' (utf-8 decode failure)").contains("   156 -> '<99>' (utf-8 decode failure)");
    }

    @Test
    void errorsAreOneLineAndExitOne(@TempDir Path dir) throws Exception {
        CliRun missing = CliRun.of("tokenize", "-m", dir.resolve("none.gguf").toString(), "-p", "x");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err().strip()).isEqualTo("panllama tokenize: error: " + dir.resolve("none.gguf") + ": no such file");

        CliRun missingText = CliRun.of("tokenize", "-m", STORIES, "-f", dir.resolve("none.txt").toString());
        assertThat(missingText.exitCode()).isEqualTo(1);
        assertThat(missingText.err().strip()).isEqualTo("panllama tokenize: error: " + dir.resolve("none.txt") + ": no such file");

        Path t5 = dir.resolve("t5.gguf");
        new GgufWriter().putString("general.architecture", "t5").putString("tokenizer.ggml.model", "t5").write(t5);
        CliRun unsupported = CliRun.of("tokenize", "-m", t5.toString(), "-p", "x");
        assertThat(unsupported.exitCode()).isEqualTo(1);
        assertThat(unsupported.err().strip()).startsWith("panllama tokenize: error: tokenizer 't5' (tokenizer.ggml.model) is not supported")
                .doesNotContain("\n");

        Path bare = dir.resolve("bare.gguf");
        new GgufWriter().putString("general.architecture", "llama").write(bare);
        CliRun noTokenizer = CliRun.of("tokenize", "-m", bare.toString(), "-p", "x");
        assertThat(noTokenizer.exitCode()).isEqualTo(1);
        assertThat(noTokenizer.err()).contains("no tokenizer in this GGUF file");
    }

    @Test
    void promptIsRequiredAndExclusive() {
        assertThat(CliRun.of("tokenize", "-m", STORIES).exitCode()).isEqualTo(2);
        assertThat(CliRun.of("tokenize", "-m", STORIES, "-p", "a", "-f", "b").exitCode()).isEqualTo(2);
    }
}
