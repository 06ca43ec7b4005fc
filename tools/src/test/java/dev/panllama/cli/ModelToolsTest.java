package dev.panllama.cli;

import dev.panllama.testing.LogitsOracle;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code run}, {@code perplexity} and {@code logits} against llama.cpp's golden outputs (oracles: testdata README, reference README). */
class ModelToolsTest {

    /** Token-identical greedy continuation: llama-simple printed "<s>" for BOS, then exactly our text. */
    @Test
    void greedyRunMatchesLlamaCpp() throws Exception {
        String golden = Files.readString(TestFiles.bundled("golden-llama.cpp-c392e50/stories260K.greedy.once-upon-a-time.n64.txt"));
        CliRun r = CliRun.of("run", "-p", "Once upon a time", "-n", "64", "--temp", "0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat("<s> " + r.out()).isEqualTo(golden);
        assertThat(r.err()).containsPattern("generation 64 tokens, [0-9.]+ ms, [0-9.]+ tok/s");
    }

    @Test
    void samplingIsReproducibleWithASeed() {
        CliRun a = CliRun.of("run", "-p", "Once upon a time", "-n", "24", "--seed", "42", "--temp", "1.0");
        CliRun b = CliRun.of("run", "-p", "Once upon a time", "-n", "24", "--seed", "42", "--temp", "1.0");
        assertThat(a.exitCode()).isZero();
        assertThat(a.out()).isEqualTo(b.out()).startsWith("Once upon a time");
    }

    /** llama-perplexity -c 128 -b 128 on the TinyStories sample: 6.8466, within 1e-3 relative. */
    @Test
    void perplexityMatchesLlamaCpp() {
        CliRun r = CliRun.of("perplexity", "-f", TestFiles.bundled("text/tinystories_sample.txt").toString(), "-c", "128", "-b", "128");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("calculating perplexity over 14 chunks, n_ctx=128").contains("[14]");
        Matcher m = Pattern.compile("Final estimate: PPL = ([0-9.]+) \\+/- ([0-9.]+)").matcher(r.out());
        assertThat(m.find()).isTrue();
        double ppl = Double.parseDouble(m.group(1));
        System.out.println("stories260K tinystories_sample -c 128: PPL " + ppl + " +/- " + m.group(2) + " (llama.cpp 6.8466 +/- 0.74234)");
        assertThat(Math.abs(ppl - 6.8466) / 6.8466).isLessThanOrEqualTo(1e-3);
        assertThat(Double.parseDouble(m.group(2))).isCloseTo(0.74234, org.assertj.core.data.Offset.offset(0.002));
    }

    /** {@code panllama logits} on the zoo prompt vs llama.cpp (quantized-file criterion of the reference README). */
    @ParameterizedTest
    @ValueSource(strings = {"zoo-llama-Q4_0", "zoo-llama-Q8_0", "zoo-llama-Q4_K", "zoo-llama-Q6_K"})
    void logitsMatchLlamaCpp(String name, @TempDir Path dir) throws Exception {
        LogitsOracle oracle = LogitsOracle.zoo(name);
        Path model = TestFiles.requireZoo(name + ".gguf");
        Path out = dir.resolve("out.f32");
        String ids = java.util.Arrays.stream(oracle.tokens()).mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining(" "));
        CliRun r = CliRun.of("logits", "-m", model.toString(), "--ids", ids, "-o", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo(ids);
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        float[] logits = new float[bb.remaining() / 4];
        bb.asFloatBuffer().get(logits);
        LogitsOracle.Comparison c = oracle.compare(logits);
        System.out.println("panllama logits " + name + ": " + c);
        assertThat(c.fractionWithin(0.25)).isGreaterThanOrEqualTo(0.90);
        assertThat(c.meanAbs()).isLessThanOrEqualTo(0.04);
    }

    @Test
    void logitsOfTextPromptTokenizeWithBos(@TempDir Path dir) throws Exception {
        CliRun r = CliRun.of("logits", "-p", "Once upon a time", "-o", dir.resolve("l.f32").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo("1 403 407 261 378");
        assertThat(Files.size(dir.resolve("l.f32"))).isEqualTo(5L * 512 * 4);
    }

    @Test
    void badInputsAreOneLineErrors(@TempDir Path dir) {
        CliRun badIds = CliRun.of("logits", "--ids", "1 99999", "-o", dir.resolve("x").toString());
        assertThat(badIds.exitCode()).isEqualTo(1);
        assertThat(badIds.err()).contains("token 99999 is outside the vocabulary of 512");
        CliRun badCache = CliRun.of("run", "-p", "x", "-n", "1", "-ctk", "q5_K");
        assertThat(badCache.exitCode()).isEqualTo(1);
        assertThat(badCache.err()).contains("-ctk q5_K: unsupported KV cache type");
        CliRun shortText = CliRun.of("perplexity", "-f", TestFiles.bundled("text/tinystories_sample.txt").toString(), "-c", "4096");
        assertThat(shortText.exitCode()).isEqualTo(1);
        assertThat(shortText.err()).contains("need at least 4096 tokens");
        // stories260K's heads are 8 wide: too narrow for 32-wide Q8_0 blocks, as llama.cpp also refuses.
        CliRun narrow = CliRun.of("run", "-p", "Once", "-n", "1", "-ctk", "q8_0");
        assertThat(narrow.exitCode()).isEqualTo(1);
        assertThat(narrow.err()).contains("-ctk q8_0 needs attention heads whose size is a multiple of 32; this model's are 8");
    }

    @Test
    void quantizedKvCacheRuns(@TempDir Path dir) throws Exception {
        Path model = TestFiles.requireZoo("zoo-llama-Q4_0.gguf");
        CliRun f16 = CliRun.of("logits", "-m", model.toString(), "-p", "Once upon a time", "-o", dir.resolve("a").toString());
        CliRun q8 = CliRun.of("logits", "-m", model.toString(), "-p", "Once upon a time", "-o", dir.resolve("b").toString(),
                "-ctk", "q8_0", "-ctv", "q8_0");
        assertThat(q8.exitCode()).as(q8.err()).isZero();
        float[] a = floats(dir.resolve("a")), b = floats(dir.resolve("b"));
        double maxDiff = 0;
        for (int i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
        // Q8_0 keys and values carry ~0.4% rounding: the logits move a little, not a lot.
        assertThat(maxDiff).isGreaterThan(0).isLessThan(0.25);
    }

    private static float[] floats(Path p) throws Exception {
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[bb.remaining() / 4];
        bb.asFloatBuffer().get(out);
        return out;
    }
}
