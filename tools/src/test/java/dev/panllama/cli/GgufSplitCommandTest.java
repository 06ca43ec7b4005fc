package dev.panllama.cli;

import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.Tensor;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * gguf-split on the bundled model: its parts load as the model (same text) and carry llama.cpp's split
 * keys; merged back, every tensor and metadata value is the original's.
 */
class GgufSplitCommandTest {
    @TempDir
    Path dir;

    @Test
    void splitLoadsAsTheModelAndMergesBack() throws Exception {
        Path model = TestFiles.stories260K();
        CliRun split = CliRun.of("gguf-split", "--split-max-tensors", "20", model.toString(), dir.resolve("s").toString());
        assertThat(split.exitCode()).as(split.err()).isZero();
        assertThat(split.err()).contains("s-00001-of-00003.gguf: 20 tensors").contains("s-00003-of-00003.gguf: 8 tensors");
        Path first = dir.resolve("s-00001-of-00003.gguf");
        try (MappedGguf a = MappedGguf.open(model); MappedGguf b = MappedGguf.open(first)) {
            assertThat(b.files()).hasSize(3);
            assertThat(b.metadata().getInt(MappedGguf.KEY_SPLIT_COUNT)).isEqualTo(3);
            assertThat(b.metadata().getInt(MappedGguf.KEY_SPLIT_TENSORS)).isEqualTo(48);
            for (Tensor t : a.tensors()) assertThat(b.tensor(t.name()).data().mismatch(t.data())).as(t.name()).isEqualTo(-1);
        }
        try (MappedGguf second = MappedGguf.open(dir.resolve("s-00002-of-00003.gguf"))) {
            assertThat(second.files()).hasSize(3);       // any part opens the whole model
        }
        String original = CliRun.of("run", "-p", "Once upon a time", "-n", "16", "--temp", "0").out();
        assertThat(CliRun.of("run", "-m", first.toString(), "-p", "Once upon a time", "-n", "16", "--temp", "0").out()).isEqualTo(original);

        Path merged = dir.resolve("merged.gguf");
        CliRun merge = CliRun.of("gguf-split", "--merge", first.toString(), merged.toString());
        assertThat(merge.exitCode()).as(merge.err()).isZero();
        try (MappedGguf a = MappedGguf.open(model); MappedGguf m = MappedGguf.open(merged)) {
            assertThat(m.files()).hasSize(1);
            assertThat(m.metadata().keys()).doesNotContain(MappedGguf.KEY_SPLIT_COUNT);
            for (GgufEntry e : a.metadata().entries()) {
                assertThat(m.metadata().entry(e.key()).orElseThrow().displayValue()).as(e.key()).isEqualTo(e.displayValue());
            }
            assertThat(m.tensors()).extracting(Tensor::name).containsExactlyElementsOf(a.tensors().stream().map(Tensor::name).toList());
            for (Tensor t : a.tensors()) assertThat(m.tensor(t.name()).data().mismatch(t.data())).isEqualTo(-1);
        }
    }

    @Test
    void sizeLimitsDryRunAndErrors() throws Exception {
        Path model = TestFiles.stories260K();
        CliRun dry = CliRun.of("gguf-split", "--split-max-size", "1M", "--dry-run", model.toString(), dir.resolve("d").toString());
        assertThat(dry.exitCode()).as(dry.err()).isZero();
        assertThat(dry.err()).contains("d-00001-of-00002.gguf").contains("d-00002-of-00002.gguf");
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).isEmpty();
        }
        CliRun metaOnly = CliRun.of("gguf-split", "--no-tensor-first-split", "--split-max-tensors", "100", model.toString(), dir.resolve("n").toString());
        assertThat(metaOnly.err()).contains("n-00001-of-00002.gguf: 0 tensors");
        try (MappedGguf g = MappedGguf.open(dir.resolve("n-00001-of-00002.gguf"))) {
            assertThat(g.tensors()).hasSize(48);
        }
        CliRun bad = CliRun.of("gguf-split", "--split-max-size", "1T", model.toString(), dir.resolve("x").toString());
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("--split-max-size 1T: must be a number and M or G");
    }
}
