package dev.panllama.tokenizer;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * llama.cpp's own tokenizer test suites (tests/test-tokenizer-0 data, llama.cpp c392e50): every input
 * must tokenize to exactly the ids llama.cpp produced, with add_special=false and parse_special=false.
 * Exact match is the only tolerance: tokenization is discrete.
 */
class LlamaCppVocabSuiteTest {
    /** Bundled in testdata/llama.cpp-vocab so that SPM, BPE and WPM are covered in a fresh clone. */
    private static final Set<String> BUNDLED = Set.of("llama-spm", "gpt-2", "bert-bge");

    @TestFactory
    Stream<DynamicTest> bundledSuites() {
        Path dir = TestFiles.bundled("llama.cpp-vocab");
        return BUNDLED.stream().sorted().map(name -> DynamicTest.dynamicTest(name, () -> run(VocabSuite.in(dir, name))));
    }

    @TestFactory
    Stream<DynamicTest> sharedSuites() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String set : List.of("testdata/llama.cpp-vocab", "testdata/llama.cpp-vocab-pr7132")) {
            Path dir = TestFiles.requireShared(set);
            try (Stream<Path> files = Files.list(dir)) {
                for (Path inp : files.filter(p -> p.toString().endsWith(".gguf.inp")).sorted().toList()) {
                    String file = inp.getFileName().toString();
                    String name = file.substring("ggml-vocab-".length(), file.length() - ".gguf.inp".length());
                    if (BUNDLED.contains(name)) continue;
                    VocabSuite suite = VocabSuite.in(dir, name);
                    tests.add(DynamicTest.dynamicTest(name, () -> {
                        if (!Files.exists(suite.gguf())) {
                            String reason = suite.gguf().getFileName() + " is absent (only its .inp/.out are in " + set
                                    + "; the vocab is 4 MiB or larger, or was never committed upstream)";
                            System.out.println("SKIPPED: " + reason);
                            Assumptions.abort(reason);
                        }
                        run(suite);
                    }));
                }
            }
        }
        return tests.stream();
    }

    /** gpt-neox and baichuan have no test suite upstream: they must load and behave sensibly. */
    @Test
    void vocabsWithoutSuites() throws IOException {
        Path dir = TestFiles.requireShared("testdata/llama.cpp-vocab");
        // gpt-neox has no tokenizer.ggml.pre: llama.cpp warns and uses the default pre-tokenizer;
        // mpt ships the same vocabulary and merges with the gpt-2 pre-tokenizer
        Tokenizer neox = Tokenizer.fromFile(dir.resolve("ggml-vocab-gpt-neox.gguf"));
        Tokenizer mpt = Tokenizer.fromFile(dir.resolve("ggml-vocab-mpt.gguf"));
        String text = "Hello world, this is a test of the tokenizer";
        assertThat(neox.encode(text, false, false)).containsExactly(mpt.encode(text, false, false));
        assertThat(neox.decode(neox.encode(text, false, false), false, false)).isEqualTo(text);

        // special ids as llama.cpp c392e50 reports them when loading these files
        Tokenizer phi3 = Tokenizer.fromFile(dir.resolve("ggml-vocab-phi-3.gguf"));
        assertThat(new int[]{phi3.bos(), phi3.eos(), phi3.eot(), phi3.unk(), phi3.pad()}).containsExactly(1, 32000, 32007, 0, 32000);
        assertThat(phi3.isEog(32000) && phi3.isEog(32007)).isTrue();
        Tokenizer coder = Tokenizer.fromFile(dir.resolve("ggml-vocab-deepseek-coder.gguf"));
        assertThat(new int[]{coder.bos(), coder.eos(), coder.eot(), coder.pad()}).containsExactly(32013, 32014, 32014, 32014);
        assertThat(coder.isControl(32015) && coder.isControl(32016) && coder.isControl(32017)).isTrue();   // FIM texts made control
        assertThat(coder.encode("x", true, false)[0]).isEqualTo(32013);
        assertThat(neox.eot()).isZero();

        Tokenizer baichuan = Tokenizer.fromFile(dir.resolve("ggml-vocab-baichuan.gguf"));
        String mixed = "你好，世界! Hello\n\t 🦙";
        assertThat(baichuan.type()).isEqualTo(VocabType.SPM);
        assertThat(baichuan.decode(baichuan.encode(mixed, false, false), false, false)).isEqualTo(mixed);
        assertThat(baichuan.encode(mixed, true, false)[0]).isEqualTo(baichuan.bos());
    }

    private static void run(VocabSuite suite) throws IOException {
        Tokenizer tokenizer = Tokenizer.fromFile(suite.gguf());
        int total = suite.cases().size();
        List<String> failures = suite.failures(tokenizer);
        System.out.println("ggml-vocab-" + suite.name() + ": " + (total - failures.size()) + "/" + total + " passed");
        failures.stream().limit(10).forEach(f -> System.out.println("  FAILED " + f));
        assertThat(failures).as(suite.name()).isEmpty();
    }
}
