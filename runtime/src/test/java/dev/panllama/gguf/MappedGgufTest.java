package dev.panllama.gguf;

import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Opening real GGUF files: the bundled ones in detail, every file in ../shared for consistency. */
class MappedGgufTest {

    @Test
    void stories260KHeaderTensorsAndTotals() throws IOException {
        try (MappedGguf g = MappedGguf.open(TestFiles.stories260K())) {
            GgufHeader h = g.header();
            assertThat(h.version()).isEqualTo(3);
            assertThat(h.alignment()).isEqualTo(32);
            assertThat(h.dataOffset()).isEqualTo(14176);
            assertThat(g.metadata().size()).isEqualTo(19);
            assertThat(g.tensorCount()).isEqualTo(48);
            assertThat(g.metadata().getString("general.architecture")).isEqualTo("llama");
            assertThat(g.metadata().getInt("llama.block_count")).isEqualTo(5);
            assertThat(g.metadata().getInt("llama.attention.head_count_kv")).isEqualTo(4);
            assertThat(g.metadata().getFloat("llama.attention.layer_norm_rms_epsilon", 0)).isEqualTo(1e-5f);
            GgufArray tokens = g.metadata().getArray("tokenizer.ggml.tokens");
            assertThat(tokens.size()).isEqualTo(512);
            assertThat(tokens.strings()).startsWith("<unk>", "<s>", "</s>", "<0x00>");
            assertThat(g.metadata().getArray("tokenizer.ggml.scores").toFloatArray()[258]).isEqualTo(-0.0f);

            Tensor emb = g.tensor("token_embd.weight");
            assertThat(emb.type()).isEqualTo(GgmlType.F32);
            assertThat(emb.shape()).containsExactly(64, 512);
            assertThat(g.tensor("blk.4.ffn_down.weight").shape()).containsExactly(172, 64);
            assertThat(g.parameterCount()).isEqualTo(292_800);
            assertThat(g.tensorBytes()).isEqualTo(1_171_200);
            assertThat(h.dataOffset() + g.tensorBytes()).isEqualTo(Files.size(TestFiles.stories260K()));
        }
    }

    @Test
    void tinyRandomF16() throws IOException {
        try (MappedGguf g = MappedGguf.open(TestFiles.bundled("llama-2-tiny-random.gguf"))) {
            assertThat(g.metadata().size()).isEqualTo(18);
            assertThat(g.tensorCount()).isEqualTo(12);
            assertThat(g.parameterCount()).isEqualTo(513_048);
            assertThat(g.tensorBytes()).isEqualTo(1_026_144);
            assertThat(g.metadata().getArray("tokenizer.ggml.tokens").size()).isEqualTo(32000);
            Tensor q = g.tensor("blk.0.attn_q.weight");
            assertThat(q.type()).isEqualTo(GgmlType.F16);
            assertThat(q.toFloatArray()).hasSize(64).doesNotContain(Float.NaN);
        }
    }

    /** Tensor data is a view of the mapped file, not a copy. */
    @Test
    void tensorsAreSlicesOfTheMapping() throws IOException {
        Path p = TestFiles.stories260K();
        byte[] file = Files.readAllBytes(p);
        try (MappedGguf g = MappedGguf.open(p)) {
            Tensor t = g.tensor("output.weight");
            assertThat(t.data().isMapped()).isTrue();
            long off = g.header().dataOffset() + 131072 + 256;
            assertThat(t.data().toArray(ValueLayout.JAVA_BYTE)).isEqualTo(java.util.Arrays.copyOfRange(file, (int) off, (int) off + 131072));
        }
    }

    @Test
    void noMmapAndMlockGiveTheSameBytes() throws IOException {
        Path p = TestFiles.stories260K();
        try (MappedGguf mapped = MappedGguf.open(p);
             MappedGguf read = MappedGguf.open(p, GgufLoadOptions.MODEL.withMmap(false).withMlock(true))) {
            assertThat(read.isMapped()).isFalse();
            for (Tensor t : mapped.tensors()) {
                MemorySegment other = read.tensor(t.name()).data();
                assertThat(other.mismatch(t.data())).as(t.name()).isEqualTo(-1);
            }
        }
    }

    @Test
    void closedModelRejectsAccess() throws IOException {
        Tensor t;
        try (MappedGguf g = MappedGguf.open(TestFiles.stories260K())) {
            t = g.tensor("output_norm.weight");
        }
        assertThatThrownBy(() -> t.toFloatArray()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void missingFileAndDirectoryAreClearErrors(@TempDir Path dir) {
        assertThatThrownBy(() -> MappedGguf.open(dir.resolve("nope.gguf"))).hasMessageContaining("nope.gguf");
        assertThatThrownBy(() -> MappedGguf.open(dir)).hasMessageContaining("is a directory");
    }

    /**
     * Every .gguf in ../shared opens, and the sizes our type table gives put the last tensor's end within
     * one alignment of the end of the file: a wrong block or type size for any type used there fails this.
     */
    @Test
    void everySharedGgufOpensAndItsTensorsTileTheFile() throws IOException {
        Path shared = TestFiles.requireShared("reference");
        List<Path> files;
        try (Stream<Path> s = Files.walk(shared.getParent())) {
            files = s.filter(f -> f.toString().endsWith(".gguf")).sorted().toList();
        }
        assertThat(files).hasSizeGreaterThan(40);
        for (Path f : files) {
            try (MappedGguf g = MappedGguf.open(f)) {
                GgufHeader h = g.header();
                long end = h.dataOffset();
                for (GgufTensorInfo t : h.tensors()) end = Math.max(end, h.dataOffset() + t.dataOffset() + t.byteSize());
                long size = Files.size(f);
                assertThat(size - end).as(f.toString()).isBetween(0L, (long) h.alignment() - 1);
            }
        }
        System.out.println("opened " + files.size() + " GGUF files from ../shared");
    }
}
