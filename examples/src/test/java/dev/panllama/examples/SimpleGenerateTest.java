package dev.panllama.examples;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class SimpleGenerateTest {
    /** Greedy on the bundled model: the first 16 tokens of llama.cpp's golden continuation. */
    @Test
    void generatesLlamaCppsGreedyText() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SimpleGenerate.run(TestFiles.stories260K(), "Once upon a time", 16, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertThat(bytes.toString(StandardCharsets.UTF_8))
                .startsWith("Once upon a time, there was a little girl named Lily. She loved to play\n")
                .contains("(16 tokens,");
    }
}
