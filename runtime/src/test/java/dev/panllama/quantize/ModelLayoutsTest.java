package dev.panllama.quantize;

import dev.panllama.gguf.MappedGguf;
import dev.panllama.model.Architecture;
import dev.panllama.model.synth.SyntheticModel;
import dev.panllama.model.synth.SyntheticPreset;
import dev.panllama.tensor.GgmlType;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link ModelLayouts} lists exactly the tensors {@code panllama synth} writes. */
class ModelLayoutsTest {

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void layoutsMatchWhatSynthWrites(boolean moe, @TempDir Path dir) throws Exception {
        Path file = dir.resolve("tiny.gguf");
        Architecture arch = moe ? Architecture.QWEN3MOE : Architecture.LLAMA;
        SyntheticModel.of(arch, SyntheticPreset.TINY, 3, GgmlType.Q8_0, 1)
                .write(file, TestFiles.stories260K(), 2, dev.panllama.util.ProgressListener.NONE);
        try (MappedGguf g = MappedGguf.open(file)) {
            var shape = ModelLayouts.preset(SyntheticPreset.TINY, moe).withBlockCount(3);
            int vocab = Math.toIntExact(g.tensor("token_embd.weight").ne(1));
            List<TensorSpec> expected = moe ? ModelLayouts.qwen3moe(shape, vocab, GgmlType.Q8_0) : ModelLayouts.llama(shape, vocab, GgmlType.Q8_0);
            List<String> actual = g.tensors().stream().map(t -> t.name() + " " + t.type() + " " + java.util.Arrays.toString(t.shape())).toList();
            assertThat(actual).containsExactlyElementsOf(
                    expected.stream().map(t -> t.name() + " " + t.type() + " " + java.util.Arrays.toString(t.shape())).toList());
            assertThat(ModelFacts.of(g.metadata())).isEqualTo(ModelLayouts.facts(moe ? "qwen3moe" : "llama", shape));
        }
    }
}
