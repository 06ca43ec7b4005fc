package dev.panllama.model;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A KV cache saved and restored into another session continues exactly as the original would: the
 * next token's logits are bit-identical. Files of another model, truncated or foreign, are refused.
 */
class KvCacheFileTest {
    @TempDir
    Path dir;

    @Test
    void restoredCacheContinuesBitIdentically() throws Exception {
        try (Model model = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(2).withContextLength(64));
             Session a = model.newSession(); Session b = model.newSession()) {
            int[] prompt = model.tokenizer().encode("Once upon a time, there was a cat", true, false);
            a.evaluate(prompt);
            Path file = dir.resolve("slot.bin");
            KvCacheFile.Transfer saved = KvCacheFile.save(a, prompt, file);
            assertThat(saved.tokens()).isEqualTo(prompt.length);
            assertThat(saved.bytes()).isEqualTo(Files.size(file));

            b.evaluate(model.tokenizer().encode("Something else entirely", true, false));      // overwritten by the restore
            int[] restored = KvCacheFile.restore(b, file);
            assertThat(restored).containsExactly(prompt);
            assertThat(b.position()).isEqualTo(prompt.length);
            int next = 278;
            assertThat(b.evaluate(next)).containsExactly(a.evaluate(next));

            byte[] bytes = Files.readAllBytes(file);
            Path cut = dir.resolve("cut.bin");
            Files.write(cut, Arrays.copyOf(bytes, bytes.length - 10));
            assertThatThrownBy(() -> KvCacheFile.restore(b, cut)).hasMessageContaining("ends early");
            assertThat(b.position()).isZero();
            Path junk = dir.resolve("junk.bin");
            Files.writeString(junk, "hello, this is not a cache");
            assertThatThrownBy(() -> KvCacheFile.restore(b, junk)).hasMessageContaining("not a panllama KV cache file");
            assertThatThrownBy(() -> KvCacheFile.save(a, prompt, file)).hasMessageContaining("tokens given for a session at position");
        }
    }

    @Test
    void fileOfAnotherModelIsRefused() throws Exception {
        Path file = dir.resolve("stories.bin");
        try (Model model = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(1).withContextLength(32));
             Session s = model.newSession()) {
            s.evaluate(1, 2, 3);
            KvCacheFile.save(s, new int[]{1, 2, 3}, file);
        }
        try (Model other = Model.load(TestFiles.bundled("zoo/zoo-llama-Q4_0.gguf"), ModelOptions.DEFAULTS.withThreads(1).withContextLength(32));
             Session s = other.newSession()) {
            assertThatThrownBy(() -> KvCacheFile.restore(s, file)).hasMessageContaining("not this model's");
        }
    }
}
