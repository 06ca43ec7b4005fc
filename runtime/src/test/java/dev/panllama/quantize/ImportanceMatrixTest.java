package dev.panllama.quantize;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImportanceMatrixTest {
    private static final ImatrixFiles.Entry DENSE = ImatrixFiles.Entry.ofMeans("blk.0.attn_q.weight", new float[]{1f, 2f, 0.5f, 4f}, 100);
    /** Three experts of two columns; the third saw no token. */
    private static final ImatrixFiles.Entry EXPERTS = new ImatrixFiles.Entry("blk.0.ffn_down_exps.weight",
            new float[][]{{10f, 20f}, {3f, 6f}, {0f, 0f}}, new float[]{10f, 3f, 0f});

    @Test
    void readsTheGgufFormat(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("imatrix.gguf");
        ImatrixFiles.writeGguf(f, List.of(DENSE, EXPERTS), List.of("calibration.txt"), 42, 512);
        ImportanceMatrix m = ImportanceMatrix.read(f);
        assertThat(m.format()).isEqualTo(ImportanceMatrix.Format.GGUF);
        assertThat(m.entryCount()).isEqualTo(2);
        assertThat(m.chunkCount()).isEqualTo(42);
        assertThat(m.datasets()).containsExactly("calibration.txt");
        assertThat(m.forTensor("blk.0.attn_q.weight")).get().isEqualTo(new float[]{1f, 2f, 0.5f, 4f});
        // sum / count per expert; an expert that saw nothing gets 1 (llama.cpp's rule).
        assertThat(m.forTensor("blk.0.ffn_down_exps.weight")).get().isEqualTo(new float[]{1f, 2f, 1f, 2f, 1f, 1f});
        assertThat(m.forTensor("blk.0.attn_k.weight")).isEmpty();
    }

    @Test
    void readsTheLegacyFormat(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("imatrix.dat");
        ImatrixFiles.writeLegacy(f, List.of(DENSE), 7, 13, "wiki.train.raw");
        ImportanceMatrix m = ImportanceMatrix.read(f);
        assertThat(m.format()).isEqualTo(ImportanceMatrix.Format.LEGACY_DAT);
        assertThat(m.chunkCount()).isEqualTo(13);
        assertThat(m.datasets()).containsExactly("wiki.train.raw");
        float[] v = m.forTensor("blk.0.attn_q.weight").orElseThrow();
        float[] expected = {1f, 2f, 0.5f, 4f};
        for (int i = 0; i < 4; i++) assertThat(v[i]).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-6f));
    }

    @Test
    void badFilesAreClearErrors(@TempDir Path dir) throws IOException {
        Path legacy = dir.resolve("imatrix.dat");
        ImatrixFiles.writeLegacy(legacy, List.of(DENSE), 7, 13, "x");
        byte[] all = Files.readAllBytes(legacy);
        Path truncated = dir.resolve("truncated.dat");
        Files.write(truncated, Arrays.copyOf(all, 40));
        assertThatThrownBy(() -> ImportanceMatrix.read(truncated)).hasMessageContaining("truncated imatrix: values of blk.0.attn_q.weight");

        Path nan = dir.resolve("nan.gguf");
        ImatrixFiles.writeGguf(nan, List.of(ImatrixFiles.Entry.ofMeans("w", new float[]{Float.NaN}, 1)), List.of(), 1, 512);
        assertThatThrownBy(() -> ImportanceMatrix.read(nan)).hasMessageContaining("entry w holds a non-finite value");

        Path empty = dir.resolve("empty.dat");
        Files.write(empty, new byte[]{0, 0, 0, 0});
        assertThatThrownBy(() -> ImportanceMatrix.read(empty)).hasMessageContaining("not an imatrix file");

        assertThatThrownBy(() -> ImportanceMatrix.read(dir.resolve("none.dat"))).hasMessageContaining("no such imatrix file");
    }
}
