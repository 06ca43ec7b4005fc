package dev.panllama.examples;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class Fp8OnTheFlyTest {
    /** The FP8 fixture (zoo-llama's weights as E4M3 with 128x128 block scales) loads as Q8_0 and runs. */
    @Test
    void runsAnFp8CheckpointAsQ8_0() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        float[] logits = Fp8OnTheFly.run(TestFiles.requireFp8("fp8-block128"), TestFiles.stories260K(),
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("blk.0.attn_q.weight is Q8_0").contains("next token after");
        assertThat(logits).hasSize(512);
        for (float v : logits) assertThat(Float.isFinite(v)).isTrue();
    }
}
