package dev.panllama.cli;

import dev.panllama.gguf.MappedGguf;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.model.Session;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import dev.panllama.testing.LogitsOracle;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code panllama convert} and FP8 models at run time, against ../shared/reference/fp8 (the checkpoint
 * and the Q8_0 logits are also bundled under testdata/fp8, so the logits tests run in a fresh clone).
 */
class ConvertCommandTest {

    private static Path checkpoint() {
        return TestFiles.requireFp8("fp8-block128");
    }

    private static LogitsOracle q8Oracle() throws Exception {
        return LogitsOracle.of(TestFiles.requireZoo("logits/prompt.tokens.txt"),
                TestFiles.requireFp8("zoo-llama-fp8-block128-ref-Q8_0.logits.f32"));
    }

    /** The acceptance command: every tensor of the exact reference (fp8 x scale, BF16 widened), bit for bit. */
    @Test
    void convertReproducesTheExactReferenceBitForBit(@TempDir Path dir) throws Exception {
        Path ref = TestFiles.requireShared("reference/fp8/zoo-llama-fp8-block128-ref.gguf");
        Path out = dir.resolve("out.gguf");
        CliRun r = CliRun.of("convert", checkpoint().toString(), out.toString(), "--outtype", "f32",
                "--vocab-from", TestFiles.stories260K().toString(), "-t", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().strip()).matches("\\Q" + out + "\\E: 21 tensors \\(21 f32\\), 7\\.02 MiB \\([0-9,]+ bytes\\), [0-9.]+ s on 2 threads");
        try (MappedGguf ours = MappedGguf.open(out); MappedGguf theirs = MappedGguf.open(ref)) {
            assertThat(ours.tensors().stream().map(Tensor::name)).containsExactlyInAnyOrderElementsOf(
                    theirs.tensors().stream().map(Tensor::name).toList());
            for (Tensor t : theirs.tensors()) {
                Tensor o = ours.tensor(t.name());
                assertThat(o.type()).as(t.name()).isEqualTo(GgmlType.F32);
                assertThat(o.shape()).as(t.name()).containsExactly(t.shape());
                assertThat(o.data().mismatch(t.data())).as(t.name() + ": first differing byte").isEqualTo(-1L);
            }
            for (String key : new String[]{"llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
                    "llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count", "llama.context_length"}) {
                assertThat(ours.metadata().getInt(key)).as(key).isEqualTo(theirs.metadata().getInt(key));
            }
            assertThat(ours.metadata().getArray("tokenizer.ggml.tokens").strings())
                    .containsExactly(theirs.metadata().getArray("tokenizer.ggml.tokens").strings());
            assertThat(ours.metadata().getInt("general.file_type")).isZero();
        }
    }

    /**
     * A Hugging Face FP8 directory loaded directly (FP8 -> Q8_0 at load) against llama.cpp's logits on the
     * Q8_0 reference, with the reference README's quantized-file criterion; the embeddings stay BF16 here
     * where llama.cpp's file has them in Q8_0.
     */
    @Test
    void fp8DirectoryRunsWithinTheQuantizedCriterion() throws Exception {
        LogitsOracle oracle = q8Oracle();
        try (Model m = Model.load(checkpoint(), ModelOptions.DEFAULTS.withThreads(2), TestFiles.stories260K());
             Session s = m.newSession(64)) {
            assertThat(m.source().tensor("blk.1.ffn_down.weight").type()).isEqualTo(GgmlType.Q8_0);
            LogitsOracle.Comparison c = oracle.compare(s.evaluateAll(oracle.tokens()));
            System.out.println("FP8 directory vs llama.cpp on ref-Q8_0: " + c);
            assertThat(c.fractionWithin(0.25)).isGreaterThanOrEqualTo(0.90);
            assertThat(c.meanAbs()).isLessThanOrEqualTo(0.04);
        }
    }

    /** The same through the CLI: an FP8 GGUF from convert, then {@code logits -m} on it and on the directory. */
    @Test
    void fp8GgufAndDirectoryGiveTheSameLogits(@TempDir Path dir) throws Exception {
        LogitsOracle oracle = q8Oracle();
        String ids = Arrays.stream(oracle.tokens()).mapToObj(Integer::toString).collect(Collectors.joining(" "));
        Path fp8 = dir.resolve("fp8.gguf");
        CliRun conv = CliRun.of("convert", checkpoint().toString(), fp8.toString(), "--outtype", "fp8",
                "--vocab-from", TestFiles.stories260K().toString());
        assertThat(conv.exitCode()).as(conv.err()).isZero();
        assertThat(conv.out()).contains("35 tensors (19 f32, 2 bf16, 14 f8_e4m3)");

        CliRun fromGguf = CliRun.of("logits", "-m", fp8.toString(), "--ids", ids, "-o", dir.resolve("a.f32").toString());
        assertThat(fromGguf.exitCode()).as(fromGguf.err()).isZero();
        CliRun fromDir = CliRun.of("logits", "-m", checkpoint().toString(), "--vocab-from", TestFiles.stories260K().toString(),
                "--ids", ids, "-o", dir.resolve("b.f32").toString());
        assertThat(fromDir.exitCode()).as(fromDir.err()).isZero();
        float[] a = read(dir.resolve("a.f32"));
        assertThat(a).containsExactly(read(dir.resolve("b.f32")));
        LogitsOracle.Comparison c = oracle.compare(a);
        assertThat(c.fractionWithin(0.25)).isGreaterThanOrEqualTo(0.90);
        assertThat(c.meanAbs()).isLessThanOrEqualTo(0.04);
    }

    @Test
    void badInputsAreOneLineErrors(@TempDir Path dir) throws Exception {
        CliRun noVocab = CliRun.of("convert", checkpoint().toString(), dir.resolve("x.gguf").toString());
        assertThat(noVocab.exitCode()).isEqualTo(1);
        assertThat(noVocab.err().strip()).doesNotContain("\n").contains("no tokenizer.json").contains("--vocab-from");
        CliRun badType = CliRun.of("convert", checkpoint().toString(), dir.resolve("x.gguf").toString(), "--outtype", "q4_k");
        assertThat(badType.err()).contains("unknown --outtype 'q4_k' (f32, f16, bf16, q8_0, fp8)");
        CliRun notAModel = CliRun.of("convert", dir.toString(), dir.resolve("x.gguf").toString());
        assertThat(notAModel.err()).contains("not a Hugging Face model directory");
        CliRun runDir = CliRun.of("logits", "-m", checkpoint().toString(), "--ids", "1", "-o", dir.resolve("l").toString());
        assertThat(runDir.exitCode()).isEqualTo(1);
        assertThat(runDir.err()).contains("no tokenizer.json");
        assertThat(Files.exists(dir.resolve("x.gguf"))).isFalse();
    }

    private static float[] read(Path p) throws Exception {
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[bb.remaining() / 4];
        bb.asFloatBuffer().get(out);
        return out;
    }
}
