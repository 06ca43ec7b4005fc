package dev.panllama.cli;

import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.GgmlType;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class SynthCommandTest {

    @Test
    void writesATinyModelAndSummarisesIt(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("tiny-q4_0.gguf");
        CliRun r = CliRun.of("synth", "--arch", "qwen3", "--preset", "tiny", "--type", "q4_0", "-t", "2",
                "--vocab-from", TestFiles.stories260K().toString(), out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().strip()).doesNotContain("\n")
                .matches("\\Q" + out + "\\E: qwen3 tiny q4_0, [0-9.]+ M params, [0-9.]+ MiB \\([0-9,]+ bytes\\), 4\\.5[0-9] bpw, [0-9.]+ s on 2 threads");
        // Not a terminal under test: no progress bar.
        assertThat(r.err()).isEmpty();
        try (MappedGguf g = MappedGguf.open(out)) {
            assertThat(g.metadata().getString("general.architecture")).isEqualTo("qwen3");
            assertThat(g.metadata().getInt("general.file_type")).isEqualTo(2);
            assertThat(g.metadata().getInt("qwen3.attention.key_length")).isEqualTo(64);
            assertThat(g.tensor("token_embd.weight").type()).isEqualTo(GgmlType.Q4_0);
            assertThat(g.tensor("blk.0.attn_q_norm.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(r.out()).contains(String.format("(%,d bytes)", Files.size(out)));
        }
    }

    @Test
    void tinyDefaultsToTheBundledVocabAndLayersOverrideThePreset(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("t.gguf");
        String home = System.getProperty("panllama.home");
        System.setProperty("panllama.home", TestFiles.root().toString());
        try {
            CliRun r = CliRun.of("synth", "--arch", "llama", "--preset", "tiny", "--type", "f16", "--layers", "1", out.toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
        } finally {
            if (home == null) System.clearProperty("panllama.home"); else System.setProperty("panllama.home", home);
        }
        try (MappedGguf g = MappedGguf.open(out); MappedGguf stories = MappedGguf.open(TestFiles.stories260K())) {
            assertThat(g.metadata().getInt("llama.block_count")).isEqualTo(1);
            assertThat(g.metadata().getArray("tokenizer.ggml.tokens").strings())
                    .containsExactly(stories.metadata().getArray("tokenizer.ggml.tokens").strings());
        }
    }

    /**
     * A tiny deepseek2 in the current layout, then generation with the scheduler flags of the EPYC case
     * (-ngl 99 --cpu-moe, offloading to CPU_REF here): experts stay on the CPU, the rest goes to the
     * offload device, and generation runs (greedy on random weights may hit end-of-text early).
     */
    @Test
    void deepseek2TinyRunsWithTheSchedulerFlags(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("ds2.gguf");
        CliRun w = CliRun.of("synth", "--arch", "deepseek2", "--preset", "tiny", "--type", "q8_0", "-t", "2",
                "--vocab-from", TestFiles.stories260K().toString(), out.toString());
        assertThat(w.exitCode()).as(w.err()).isZero();
        assertThat(w.out()).contains("deepseek2 tiny q8_0");
        try (MappedGguf g = MappedGguf.open(out)) {
            assertThat(g.metadata().getInt("deepseek2.attention.key_length")).isEqualTo(256 + 32);
            assertThat(g.metadata().getInt("deepseek2.attention.key_length_mla")).isEqualTo(64 + 32);
            assertThat(g.metadata().getInt("deepseek2.expert_group_count")).isEqualTo(4);
            assertThat(g.tensor("blk.1.attn_k_b.weight").shape()).containsExactly(64, 256, 4);
            assertThat(g.tensor("blk.1.exp_probs_b.bias").type()).isEqualTo(GgmlType.F32);
            assertThat(g.findTensor("blk.0.ffn_gate_exps.weight")).isEmpty();     // the leading dense layer
        }
        CliRun r = CliRun.of("run", "-m", out.toString(), "-p", "Once upon a time", "-n", "4", "--temp", "0",
                "-ngl", "99", "-dev", "CPU_REF", "--cpu-moe", "--print-placement");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("Once upon a time");
        assertThat(r.err()).containsPattern("blk\\.1\\.ffn_up_exps\\.weight .* CPU +--cpu-moe")
                .containsPattern("blk\\.1\\.attn_k_b\\.weight .* CPU_REF +-ngl 99")
                .containsPattern("generation [1-4] tokens");
    }

    @Test
    void badRequestsAreOneLineErrors(@TempDir Path dir) {
        String out = dir.resolve("x.gguf").toString();
        CliRun noVocab = CliRun.of("synth", "--arch", "llama", "--preset", "1b", "--type", "q4_0", out);
        assertThat(noVocab.exitCode()).isEqualTo(1);
        assertThat(noVocab.err().strip()).startsWith("panllama synth: error: preset 1b needs --vocab-from").doesNotContain("\n");

        CliRun badType = CliRun.of("synth", "--arch", "llama", "--preset", "tiny", "--type", "q9_9", out);
        assertThat(badType.exitCode()).isEqualTo(1);
        assertThat(badType.err()).contains("unknown type 'q9_9'").contains("q8_0");

        CliRun badPreset = CliRun.of("synth", "--arch", "llama", "--preset", "70b", "--type", "f16", out);
        assertThat(badPreset.err()).contains("unknown preset '70b' (presets: tiny, 1b, 8b, moe, v3)");

        CliRun badArch = CliRun.of("synth", "--arch", "gpt2", "--preset", "tiny", "--type", "f16", out);
        assertThat(badArch.err()).contains("unsupported architecture 'gpt2'");

        CliRun v3Llama = CliRun.of("synth", "--arch", "llama", "--preset", "v3", "--type", "q4_0",
                "--vocab-from", TestFiles.stories260K().toString(), out);
        assertThat(v3Llama.err()).contains("preset v3 is a deepseek2 shape; use --arch deepseek2");

        CliRun ds2Dense = CliRun.of("synth", "--arch", "deepseek2", "--preset", "8b", "--type", "q4_0",
                "--vocab-from", TestFiles.stories260K().toString(), out);
        assertThat(ds2Dense.err()).contains("preset 8b has no deepseek2 shape (deepseek2 presets: tiny, v3)");

        CliRun denseMoe = CliRun.of("synth", "--arch", "qwen3moe", "--preset", "8b", "--type", "f16",
                "--vocab-from", TestFiles.stories260K().toString(), out);
        assertThat(denseMoe.err()).contains("preset 8b is dense");

        CliRun missingVocab = CliRun.of("synth", "--arch", "llama", "--preset", "tiny", "--type", "f16",
                "--vocab-from", dir.resolve("none.gguf").toString(), out);
        assertThat(missingVocab.exitCode()).isEqualTo(1);
        assertThat(missingVocab.err()).contains("none.gguf: no such file");
        assertThat(dir.resolve("x.gguf")).doesNotExist();

        CliRun noArch = CliRun.of("synth", "--preset", "tiny", "--type", "f16", out);
        assertThat(noArch.exitCode()).isEqualTo(2);
        assertThat(noArch.err()).contains("Missing required option: '--arch=ARCH'");
    }
}
