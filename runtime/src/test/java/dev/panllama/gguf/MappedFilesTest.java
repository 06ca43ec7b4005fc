package dev.panllama.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.assertj.core.api.Assertions.assertThat;

class MappedFilesTest {
    private static final InternalError FAULT = new InternalError("a fault occurred in an unsafe memory access operation");

    @Test
    void aTruncatedModelIsNamedWithItsSizes(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("model.gguf");
        Files.copy(Path.of(System.getProperty("panllama.root"), "models", "stories260K.gguf"), model);
        try (MappedGguf gguf = MappedGguf.open(model, GgufLoadOptions.INSPECT)) {
            assertThat(gguf.isMapped()).isTrue();
            try (FileChannel ch = FileChannel.open(model, StandardOpenOption.WRITE)) {
                ch.truncate(4096);
            }
            assertThat(MappedFiles.isMappedReadFault(new RuntimeException("wrapped", FAULT))).isTrue();
            assertThat(MappedFiles.describeFault()).isEqualTo(model.toAbsolutePath()
                    + " changed on disk while mapped (1,185,376 bytes when loaded, now 4,096): a model file must not be truncated"
                    + " or rewritten while panllama uses it");
        }
        // Closed as the error unwinds (try-with-resources) before it is described: still named.
        assertThat(MappedFiles.describeFault()).startsWith(model.toAbsolutePath() + " changed on disk while mapped");
    }

    @Test
    void otherErrorsAreNotMappedReadFaults() {
        assertThat(MappedFiles.isMappedReadFault(new InternalError("something else"))).isFalse();
        assertThat(MappedFiles.isMappedReadFault(new IllegalStateException())).isFalse();
        assertThat(MappedFiles.describeFault()).satisfiesAnyOf(m -> assertThat(m).contains("--no-mmap"),
                m -> assertThat(m).contains("changed on disk while mapped"));
    }
}
