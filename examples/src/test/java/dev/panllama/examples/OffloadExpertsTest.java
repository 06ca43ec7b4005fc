package dev.panllama.examples;

import dev.panllama.model.Architecture;
import dev.panllama.model.synth.SyntheticModel;
import dev.panllama.model.synth.SyntheticPreset;
import dev.panllama.tensor.GgmlType;
import dev.panllama.testing.TestFiles;
import dev.panllama.util.ProgressListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class OffloadExpertsTest {
    /**
     * A small mixture-of-experts model (qwen3moe, the tiny synthetic shape: 2 layers, 8 experts, Q4_K,
     * written here) with its experts on CPU_REF: every expert weight goes there, the rest stays on the CPU,
     * and generation runs across the two devices.
     */
    @Test
    void expertsOnTheReferenceDevice(@TempDir Path tmp) throws Exception {
        Path moe = tmp.resolve("tiny-qwen3moe-q4_k.gguf");
        SyntheticModel.of(Architecture.QWEN3MOE, SyntheticPreset.TINY, 0, GgmlType.Q4_K, 1)
                .write(moe, TestFiles.stories260K(), 2, ProgressListener.NONE);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        OffloadExperts.run(moe, "exps=CPU_REF", "Once upon a time", 8, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);

        for (int layer = 0; layer < 2; layer++) {
            for (String w : new String[]{"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"}) {
                assertThat(out).containsPattern("blk\\." + layer + "\\." + w + "\\.weight\\s.*\\sCPU_REF\\s+-ot exps=CPU_REF");
            }
            assertThat(out).containsPattern("blk\\." + layer + "\\.attn_q\\.weight\\s.*\\sCPU\\s+default");
            assertThat(out).containsPattern("blk\\." + layer + "\\.ffn_gate_inp\\.weight\\s.*\\sCPU\\s+default");
        }
        assertThat(out).contains("running on: ").contains(" + CPU_REF");
        Matcher stats = Pattern.compile("\\((\\d+) tokens; (\\d+) activation copies between devices\\)").matcher(out);
        assertThat(stats.find()).isTrue();
        assertThat(Integer.parseInt(stats.group(1))).isEqualTo(8);
        assertThat(Integer.parseInt(stats.group(2))).isPositive();
    }
}
