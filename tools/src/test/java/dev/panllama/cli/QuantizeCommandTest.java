package dev.panllama.cli;

import dev.panllama.gguf.MappedGguf;
import dev.panllama.quantize.ImatrixFiles;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class QuantizeCommandTest {

    /**
     * The acceptance criterion of issue 8: {@code quantize --pure} of zoo-llama-f32.gguf gives, per type,
     * at least 99.9% of blocks byte-identical to llama-quantize's zoo-llama-TYPE.gguf (the codecs
     * follow ggml's float operations, so 100% is expected; the margin is for a float tie decided
     * differently). Also reported: whether the whole file, metadata and tensor order included, is
     * identical.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"})
    void pureQuantizationOfTheZooMatchesLlamaQuantize(String type, @TempDir Path dir) throws IOException {
        Path f32 = TestFiles.requireShared("reference/zoo/zoo-llama-f32.gguf");
        Path reference = TestFiles.requireShared("reference/zoo/zoo-llama-" + type + ".gguf");
        Path out = dir.resolve("ours.gguf");
        CliRun r = CliRun.of("quantize", "--pure", f32.toString(), out.toString(), type, "2");
        assertThat(r.exitCode()).as(r.err()).isZero();

        long blocks = 0;
        long identical = 0;
        try (MappedGguf ours = MappedGguf.open(out); MappedGguf theirs = MappedGguf.open(reference)) {
            assertThat(ours.tensors().stream().map(t -> t.name() + " " + t.type()).toList())
                    .containsExactlyElementsOf(theirs.tensors().stream().map(t -> t.name() + " " + t.type()).toList());
            for (Tensor expected : theirs.tensors()) {
                Tensor actual = ours.tensor(expected.name());
                int blockBytes = expected.type().typeSize();
                long n = expected.byteSize() / blockBytes;
                for (long b = 0; b < n; b++) {
                    long at = b * blockBytes;
                    if (MemorySegment.mismatch(actual.data(), at, at + blockBytes, expected.data(), at, at + blockBytes) < 0) identical++;
                }
                blocks += n;
            }
        }
        boolean wholeFile = Files.mismatch(out, reference) == -1;
        System.out.printf("QUANTIZE --pure %s: %d/%d blocks byte-identical to llama-quantize (%.3f%%); whole file identical: %s%n",
                type, identical, blocks, 100.0 * identical / blocks, wholeFile ? "yes" : "no");
        assertThat((double) identical / blocks).as(type).isGreaterThanOrEqualTo(0.999);
    }

    /**
     * Row-interleaved targets are written a whole group of rows at a time: --custom-q to ik_llama.cpp's
     * Q8_0_R8 reproduces ik's own file byte for byte, and quantizing that file back (decoding its groups)
     * gives mainline's Q8_0 blocks again.
     */
    @Test
    void rowInterleavedTypesInAndOut(@TempDir Path dir) throws IOException {
        Path f32 = TestFiles.requireShared("reference/zoo/zoo-llama-f32.gguf");
        Path ik = TestFiles.requireShared("reference/zoo-ik/zoo-llama-Q8_0_R8.gguf");
        Path out = dir.resolve("r8.gguf");
        CliRun r = CliRun.of("quantize", "--pure", "--custom-q", "token_embd=q8_0,.*=q8_0_r8", f32.toString(), out.toString(), "Q8_0", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        try (MappedGguf ours = MappedGguf.open(out); MappedGguf theirs = MappedGguf.open(ik)) {
            for (Tensor t : theirs.tensors()) {
                Tensor o = ours.tensor(t.name());
                assertThat(o.type()).as(t.name()).isEqualTo(t.type());
                assertThat(o.data().mismatch(t.data())).as(t.name()).isEqualTo(-1);
            }
        }
        Path back = dir.resolve("back.gguf");
        CliRun b = CliRun.of("quantize", "--pure", "--allow-requantize", ik.toString(), back.toString(), "Q8_0", "2");
        assertThat(b.exitCode()).as(b.err()).isZero();
        try (MappedGguf q8 = MappedGguf.open(back); MappedGguf zoo = MappedGguf.open(TestFiles.requireZoo("zoo-llama-Q8_0.gguf"))) {
            assertThat(q8.tensor("blk.1.ffn_down.weight").data().mismatch(zoo.tensor("blk.1.ffn_down.weight").data())).isEqualTo(-1);
        }
    }

    /**
     * ik_llama.cpp's types as the TYPE argument (by name, or by ik_llama.cpp's ftype number): the file
     * has ik_llama.cpp's tensor types and general.file_type, 99% of its rows are byte-identical to
     * ik_llama.cpp's own {@code llama-quantize --pure} (IkQuantizeTest counts blocks), and it runs: its
     * perplexity on a sample text is within 1% of that of ik_llama.cpp's file.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"IQ2_K", "IQ2_KS", "IQ3_K", "IQ5_K", "IQ6_K", "IQ2_K_R4", "339"})
    void ikTypesThroughTheCli(String type, @TempDir Path dir) throws IOException {
        Path f32 = TestFiles.requireShared("reference/zoo/zoo-llama-f32.gguf");
        String name = type.equals("339") ? "IQ3_K_R4" : type;
        Path ik = TestFiles.requireShared("reference/zoo-ik/zoo-llama-" + name + ".gguf");
        Path out = dir.resolve("ours.gguf");
        CliRun r = CliRun.of("quantize", "--pure", f32.toString(), out.toString(), type, "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        long rows = 0, identical = 0;
        try (MappedGguf ours = MappedGguf.open(out); MappedGguf theirs = MappedGguf.open(ik)) {
            assertThat(ours.metadata().getInt("general.file_type", -1)).isEqualTo(theirs.metadata().getInt("general.file_type", -2));
            for (Tensor t : theirs.tensors()) {
                Tensor o = ours.tensor(t.name());
                assertThat(o.type()).as(t.name()).isEqualTo(t.type());
                long rowBytes = t.byteSize() / t.rows();
                for (long i = 0; i < t.rows(); i++) {
                    long at = i * rowBytes;
                    if (MemorySegment.mismatch(o.data(), at, at + rowBytes, t.data(), at, at + rowBytes) < 0) identical++;
                    rows++;
                }
            }
        }
        String text = TestFiles.bundled("text/tinystories_sample.txt").toString();
        double ours = perplexity(out, text), theirs = perplexity(ik, text);
        System.out.printf("QUANTIZE --pure %s: %d/%d rows byte-identical to ik_llama.cpp's; perplexity %.4f, ik_llama.cpp's file %.4f%n",
                type, identical, rows, ours, theirs);
        assertThat((double) identical / rows).as(type).isGreaterThanOrEqualTo(0.99);
        assertThat(ours / theirs).as(type + " perplexity ratio").isBetween(0.99, 1.01);
    }

    private static double perplexity(Path model, String text) {
        CliRun r = CliRun.of("perplexity", "-m", model.toString(), "-f", text, "-c", "128", "--chunks", "4", "-t", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("PPL = ([0-9.]+)").matcher(r.out() + r.err());
        assertThat(m.find()).as(r.out() + r.err()).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void dryRunPrintsThePlanAndWritesNothing(@TempDir Path dir) throws IOException {
        Path model = tinyModel(dir, "llama", "f16");
        CliRun r = CliRun.of("quantize", "--dry-run", model.toString(), "Q4_K_M");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("output.weight").contains("f16 -> q6_K").contains("output: llama.cpp gives the output matrix q6_K")
                .contains("blk.1.attn_v.weight").contains("Q4_K_M: attn_v #1 of 2 in use_more_bits -> q6_K")
                .contains("blk.0.attn_norm.weight").contains("1-D, kept")
                .containsPattern("model size = +[0-9.]+ MiB \\(16\\.[0-9]+ BPW\\)")
                .containsPattern("quant size = +[0-9.]+ MiB \\(4\\.[0-9]+ BPW\\)");
        assertThat(r.out().lines().filter(l -> l.startsWith("[")).count()).isEqualTo(MappedGguf.open(model).tensorCount());
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).containsExactly(model);
        }
    }

    @Test
    void customRulesImatrixAndMoeRulesThroughTheCli(@TempDir Path dir) throws IOException {
        Path model = tinyModel(dir, "qwen3moe", "f32");
        Path imatrix = dir.resolve("imatrix.dat");
        List<ImatrixFiles.Entry> entries = new ArrayList<>();
        try (MappedGguf g = MappedGguf.open(model)) {
            for (Tensor t : g.tensors()) {
                if (!t.name().contains("attn_q.weight")) continue;
                float[] means = new float[(int) t.ne(0)];
                for (int j = 0; j < means.length; j++) means[j] = 1f + (j % 7);
                entries.add(ImatrixFiles.Entry.ofMeans(t.name(), means, 10));
            }
        }
        ImatrixFiles.writeLegacy(imatrix, entries, 10, 4, "calibration.txt");
        Path out = dir.resolve("out.gguf");
        CliRun r = CliRun.of("quantize", "--imatrix", imatrix.toString(), "--custom-q", "ffn_down_exps=q8_0,blk\\.1\\.ffn_up=iq4_xs",
                "--output-tensor-type", "q8_0", model.toString(), out.toString(), "Q4_K_M", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("imatrix: " + imatrix + " (legacy_dat, 2 entries, 4 chunks, dataset calibration.txt)")
                .contains("[imatrix]").contains("--custom-q rule 1 'ffn_down_exps=q8_0'")
                .contains("MoE: attention (llama.cpp: q4_K) -> q5_K").contains("attn_v in an 8-expert model -> q8_0")
                .contains("warning: blk.0.attn_output.weight: no imatrix entry");
        assertThat(r.out().strip().lines().toList().getLast()).startsWith(out + ": Q4_K_M, ").endsWith("s on 2 threads");
        try (MappedGguf q = MappedGguf.open(out)) {
            assertThat(q.tensor("blk.0.ffn_down_exps.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(q.tensor("blk.1.ffn_up_exps.weight").type()).isEqualTo(GgmlType.IQ4_XS);
            assertThat(q.tensor("blk.0.ffn_up_exps.weight").type()).isEqualTo(GgmlType.Q4_K);
            assertThat(q.tensor("blk.0.attn_k.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(q.tensor("output.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(q.metadata().getString("quantize.imatrix.dataset")).isEqualTo("calibration.txt");
        }
        CliRun llamaMix = CliRun.of("quantize", "--dry-run", "--llama-mix", model.toString(), "Q4_K_M");
        assertThat(llamaMix.out()).doesNotContain("MoE:");
    }

    @Test
    void badArgumentsAreOneLineErrors(@TempDir Path dir) throws IOException {
        Path model = tinyModel(dir, "llama", "q8_0");
        String out = dir.resolve("o.gguf").toString();
        assertThat(CliRun.of("quantize", model.toString(), out, "Q7_K").err())
                .contains("unknown quantization type 'Q7_K'").contains("Q4_K_M");
        assertThat(CliRun.of("quantize", model.toString(), out, "Q4_K_M", "zero").err())
                .contains("THREADS must be a positive number, not 'zero'");
        CliRun requant = CliRun.of("quantize", model.toString(), out, "Q4_K_M");
        assertThat(requant.exitCode()).isEqualTo(1);
        assertThat(requant.err().strip()).startsWith("panllama quantize: error: requantizing from type q8_0 is disabled").doesNotContain("\n");
        assertThat(CliRun.of("quantize", "--custom-q", "x", model.toString(), out, "Q4_0").err()).contains("'x' is not REGEX=TYPE");
        assertThat(CliRun.of("quantize", "--output-tensor-type", "q9", model.toString(), out, "Q4_0").err())
                .contains("--output-tensor-type: unknown ggml type 'q9'");
        assertThat(CliRun.of("quantize", "--imatrix", dir.resolve("none.dat").toString(), model.toString(), out, "Q4_0").err())
                .contains("none.dat: no such imatrix file");
        assertThat(CliRun.of("quantize", model.toString(), "Q4_0").err()).contains("expected IN.gguf OUT.gguf TYPE [THREADS]");
        assertThat(Path.of(out)).doesNotExist();
    }

    private static Path tinyModel(Path dir, String arch, String type) {
        Path f = dir.resolve("tiny-" + arch + "-" + type + ".gguf");
        CliRun r = CliRun.of("synth", "--arch", arch, "--preset", "tiny", "--type", type, "--layers", "2",
                "--vocab-from", TestFiles.stories260K().toString(), f.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        return f;
    }
}
