package dev.panllama.model.synth;

import dev.panllama.gguf.GgufWriter;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.model.Architecture;
import dev.panllama.model.Model;
import dev.panllama.model.ModelConfig;
import dev.panllama.model.ModelOptions;
import dev.panllama.model.Session;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import dev.panllama.testing.TestFiles;
import dev.panllama.util.ProgressListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SyntheticModelTest {
    private static final int STORIES_VOCAB = 512;

    @ParameterizedTest
    @CsvSource({"LLAMA, F16", "LLAMA, Q8_0", "QWEN3, F16", "QWEN3, Q8_0", "QWEN3MOE, F16", "QWEN3MOE, Q8_0"})
    void tinyModelsLoadAndRun(Architecture arch, GgmlType type, @TempDir Path dir) throws IOException {
        Path file = dir.resolve("tiny.gguf");
        SyntheticModel synth = SyntheticModel.of(arch, SyntheticPreset.TINY, 0, type, 42);
        SyntheticModel.Summary summary = synth.write(file, TestFiles.stories260K(), 2, ProgressListener.NONE);
        assertThat(summary.fileBytes()).isEqualTo(Files.size(file)).isLessThan(16L << 20);

        try (Model model = Model.load(file, ModelOptions.DEFAULTS.withThreads(1).withContextLength(32));
             Session s = model.newSession()) {
            ModelConfig c = model.config();
            assertThat(c.arch()).isEqualTo(arch);
            assertThat(c.vocabSize()).isEqualTo(STORIES_VOCAB);
            assertThat(c.blockCount()).isEqualTo(2);
            assertThat(c.headDimK()).isEqualTo(64);
            assertThat(c.expertCount()).isEqualTo(arch == Architecture.QWEN3MOE ? 8 : 0);
            assertThat(model.metadata().getInt("general.file_type")).isEqualTo(type == GgmlType.F16 ? 1 : 7);
            assertThat(model.metadata().getArray("tokenizer.ggml.tokens").size()).isEqualTo(STORIES_VOCAB);
            assertThat(model.gguf().tensor("output.weight").type()).isEqualTo(type);
            assertThat(model.gguf().tensor("blk.1.ffn_norm.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(model.gguf().parameterCount()).isEqualTo(summary.parameters());
            assertThat(model.gguf().tensorBytes()).isEqualTo(summary.tensorBytes());

            float[] logits = s.evaluate(1, 403, 407, 261, 378);
            assertThat(logits).hasSize(STORIES_VOCAB);
            double sum = 0, sumSq = 0;
            for (float v : logits) {
                assertThat(Float.isFinite(v)).isTrue();
                sum += v;
                sumSq += (double) v * v;
            }
            // Random weights of std 0.02 over 256 inputs give logits of std about 0.02 * sqrt(256) = 0.32;
            // a broken forward pass gives zeros, NaN or values orders of magnitude off.
            double std = Math.sqrt(sumSq / logits.length - Math.pow(sum / logits.length, 2));
            assertThat(std).isBetween(0.05, 3.0);
        }
    }

    @Test
    void bytesDoNotDependOnThreadCount(@TempDir Path dir) throws IOException {
        SyntheticModel synth = SyntheticModel.of(Architecture.QWEN3MOE, SyntheticPreset.TINY, 0, GgmlType.Q8_0, 7);
        Path one = dir.resolve("one.gguf");
        Path three = dir.resolve("three.gguf");
        synth.write(one, TestFiles.stories260K(), 1, ProgressListener.NONE);
        synth.write(three, TestFiles.stories260K(), 3, ProgressListener.NONE);
        assertThat(Files.mismatch(one, three)).isEqualTo(-1L);

        Path otherSeed = dir.resolve("seed8.gguf");
        SyntheticModel.of(Architecture.QWEN3MOE, SyntheticPreset.TINY, 0, GgmlType.Q8_0, 8)
                .write(otherSeed, TestFiles.stories260K(), 3, ProgressListener.NONE);
        assertThat(Files.mismatch(one, otherSeed)).isNotEqualTo(-1L);
    }

    @Test
    void weightsHaveTheIntendedDistributionAndDependOnlyOnSeedAndName(@TempDir Path dir) throws IOException {
        Path f16 = dir.resolve("f16.gguf");
        Path q8 = dir.resolve("q8.gguf");
        SyntheticModel.of(Architecture.LLAMA, SyntheticPreset.TINY, 0, GgmlType.F16, 42).write(f16, TestFiles.stories260K(), 2, ProgressListener.NONE);
        // One layer more: the tensors the two files share must still hold the same values.
        SyntheticModel.of(Architecture.LLAMA, SyntheticPreset.TINY, 3, GgmlType.Q8_0, 42).write(q8, TestFiles.stories260K(), 2, ProgressListener.NONE);
        try (MappedGguf a = MappedGguf.open(f16); MappedGguf b = MappedGguf.open(q8)) {
            assertThat(b.metadata().getInt("llama.block_count")).isEqualTo(3);
            float[] emb = all(a.tensor("token_embd.weight"));
            assertThat(mean(emb)).isCloseTo(0.0, within(0.001));
            assertThat(std(emb)).isCloseTo(SyntheticModel.WEIGHT_STD, within(0.0005));
            float[] norm = all(a.tensor("blk.0.attn_norm.weight"));
            assertThat(mean(norm)).isCloseTo(1.0, within(0.01));
            assertThat(std(norm)).isCloseTo(SyntheticModel.NORM_NOISE, within(0.005));

            // Q8_0 rounds to 1/127 of a block's largest magnitude (about 3.5 std here): error <= 0.0006;
            // F16 adds at most 2^-11 relative.
            float[] wf = all(a.tensor("blk.1.ffn_down.weight"));
            float[] wq = all(b.tensor("blk.1.ffn_down.weight"));
            for (int i = 0; i < wf.length; i++) assertThat(wq[i]).isCloseTo(wf[i], within(0.0008f));
        }
    }

    @Test
    void theOneBPresetHasBench1bsParameterCount() {
        // bench-1b of the reference README: 1.10 B parameters with the 32000-token Llama-2 vocab.
        SyntheticModel m = SyntheticModel.of(Architecture.LLAMA, SyntheticPreset.B1, 0, GgmlType.Q4_0, 42);
        assertThat(m.parameterCount(32000)).isEqualTo(1_104_218_112L);
    }

    @Test
    void theV3PresetHasDeepSeekV3sLayerShapes() {
        long embd = 7168, heads = 128, vocab = 32256;
        long attention = embd + embd * 1536 + 1536 + 1536 * heads * (128 + 64) + embd * (512 + 64) + 512
                + 128 * 512 * heads + 512 * 128 * heads + heads * 128 * embd + embd;
        long dense = 3 * embd * 18432;
        long moe = embd * 256 + 256 + 3 * embd * 2048 * 256 + 3 * embd * 2048;
        long expected = 2 * embd * vocab + embd + 6 * attention + dense + 5 * moe;
        SyntheticGguf m = SyntheticGguf.of(Architecture.DEEPSEEK2, SyntheticPreset.V3, 6, GgmlType.Q4_0, 42);
        assertThat(m.parameterCount((int) vocab)).isEqualTo(expected);
        assertThat(SyntheticDeepseek2.of(SyntheticPreset.V3, 0, GgmlType.Q4_0, 42).shape().blockCount()).isEqualTo(61);
    }

    @Test
    void rejectsWhatItCannotWrite(@TempDir Path dir) throws IOException {
        assertThatThrownBy(() -> SyntheticModel.of(Architecture.LLAMA, SyntheticPreset.V3, 0, GgmlType.F16, 1))
                .hasMessageContaining("preset v3 is a deepseek2 shape");
        assertThatThrownBy(() -> SyntheticGguf.of(Architecture.DEEPSEEK2, SyntheticPreset.MOE, 0, GgmlType.F16, 1))
                .hasMessageContaining("preset moe has no deepseek2 shape");
        assertThatThrownBy(() -> SyntheticDeepseek2.of(SyntheticPreset.TINY, 0, GgmlType.Q8_1, 1))
                .hasMessageContaining("cannot write models of type Q8_1");
        assertThatThrownBy(() -> SyntheticModel.of(Architecture.QWEN3MOE, SyntheticPreset.B1, 0, GgmlType.F16, 1))
                .hasMessageContaining("preset 1b is dense");
        assertThatThrownBy(() -> SyntheticModel.of(Architecture.LLAMA, SyntheticPreset.MOE, 0, GgmlType.F16, 1))
                .hasMessageContaining("--arch qwen3moe");
        assertThatThrownBy(() -> SyntheticModel.of(Architecture.QWEN2, SyntheticPreset.TINY, 0, GgmlType.F16, 1))
                .hasMessageContaining("not qwen2");
        assertThatThrownBy(() -> SyntheticModel.of(Architecture.LLAMA, SyntheticPreset.TINY, 0, GgmlType.Q8_1, 1))
                .hasMessageContaining("cannot write models of type Q8_1").hasMessageContaining("q4_0");

        Path noVocab = dir.resolve("novocab.gguf");
        new GgufWriter().putString("general.architecture", "llama").write(noVocab);
        SyntheticModel m = SyntheticModel.of(Architecture.LLAMA, SyntheticPreset.TINY, 0, GgmlType.F16, 1);
        assertThatThrownBy(() -> m.write(dir.resolve("out.gguf"), noVocab, 1, ProgressListener.NONE))
                .hasMessageContaining("no tokenizer.ggml.tokens");
        assertThat(dir.resolve("out.gguf")).doesNotExist();
    }

    @Test
    void progressCountsEveryTensorByteOnce(@TempDir Path dir) throws IOException {
        List<long[]> calls = new ArrayList<>();
        SyntheticModel.Summary s = SyntheticModel.of(Architecture.QWEN3, SyntheticPreset.TINY, 0, GgmlType.Q8_0, 42)
                .write(dir.resolve("p.gguf"), TestFiles.stories260K(), 3, (task, done, total) -> calls.add(new long[]{done, total}));
        assertThat(calls).isNotEmpty();
        for (int i = 1; i < calls.size(); i++) assertThat(calls.get(i)[0]).isGreaterThan(calls.get(i - 1)[0]);
        assertThat(calls.getLast()).containsExactly(s.tensorBytes(), s.tensorBytes());
    }

    private static float[] all(Tensor t) {
        return t.firstValues(Math.toIntExact(t.elementCount()));
    }

    private static double mean(float[] v) {
        double s = 0;
        for (float x : v) s += x;
        return s / v.length;
    }

    private static double std(float[] v) {
        double m = mean(v), s = 0;
        for (float x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / v.length);
    }
}
