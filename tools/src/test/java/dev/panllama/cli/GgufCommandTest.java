package dev.panllama.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class GgufCommandTest {

    @Test
    void helpListsSubcommandsAndEverySubcommandHasHelp() {
        CliRun top = CliRun.of("--help");
        assertThat(top.exitCode()).isZero();
        assertThat(top.out()).contains("gguf");
        for (String sub : new picocli.CommandLine(new PanllamaCommand()).getSubcommands().keySet()) {
            if (sub.equals("help")) continue;
            CliRun r = CliRun.of(sub, "--help");
            assertThat(r.exitCode()).as(sub).isZero();
            assertThat(r.out()).as(sub).contains("Usage: panllama " + sub);
        }
    }

    @Test
    void dumpsTheBundledModel() {
        CliRun r = CliRun.of("gguf", TestFiles.stories260K().toString());
        assertThat(r.exitCode()).isZero();
        assertThat(r.out())
                .contains("GGUF v3, 1,185,376 bytes, 48 tensors, 19 key/value pairs, alignment 32, data at byte 14176")
                .contains("tokenizer.ggml.tokens = ['<unk>', '<s>', '</s>'")
                .contains("llama.block_count = 5")
                .containsPattern("token_embd.weight +F32 +\\[64, 512\\] +131,072 +14176")
                .contains("* Totals: 292,800 parameters (292.80 K), 1,171,200 bytes of tensor data (1.12 MiB), 32.00 bits per weight");
    }

    @Test
    void jsonIsParseableAndComplete() throws Exception {
        CliRun r = CliRun.of("gguf", "--json", TestFiles.bundled("llama-2-tiny-random.gguf").toString());
        assertThat(r.exitCode()).isZero();
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertThat(root.get("tensors")).hasSize(12);
        assertThat(root.get("metadata")).hasSize(18);
        assertThat(root.at("/totals/parameters").asLong()).isEqualTo(513_048);
        JsonNode tokens = null;
        for (JsonNode kv : root.get("metadata")) if (kv.get("key").asText().equals("tokenizer.ggml.tokens")) tokens = kv;
        assertThat(tokens.get("count").asLong()).isEqualTo(32000);
        assertThat(tokens.get("truncated").asBoolean()).isTrue();
        assertThat(tokens.get("values").get(1).asText()).isEqualTo("<s>");
    }

    @Test
    void tensorValuesOnePerLine() throws Exception {
        CliRun r = CliRun.of("gguf", TestFiles.stories260K().toString(), "--tensor", "output_norm.weight", "--values", "3");
        assertThat(r.exitCode()).isZero();
        String[] lines = r.out().strip().split("\n");
        assertThat(lines).hasSize(3);
        float[] expected;
        try (var g = dev.panllama.gguf.MappedGguf.open(TestFiles.stories260K())) {
            expected = g.tensor("output_norm.weight").firstValues(3);
        }
        for (int i = 0; i < 3; i++) assertThat(Float.parseFloat(lines[i])).isEqualTo(expected[i]);
    }

    /**
     * ik_llama.cpp's types, the row-interleaved ones included: 300 values of output.weight (rows of 256,
     * so the second row of an interleaved group too) come out in logical order, as the tensor API gives
     * them, and track the F32 weights they were quantized from (relative RMSE below the 2-bit types' 0.4).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"IQ2_K", "IQ3_K", "IQ4_K", "IQ5_K", "IQ6_K", "IQ2_KS", "IQ4_KS",
            "IQ4_KSS", "IQ2_K_R4", "IQ3_K_R4", "IQ4_K_R4", "Q4_0_R8", "Q8_0_R8"})
    void ikTypesTensorValues(String type) throws Exception {
        Path file = TestFiles.requireShared("reference/zoo-ik/zoo-llama-" + type + ".gguf");
        CliRun r = CliRun.of("gguf", file.toString(), "--tensor", "output.weight", "--values", "300");
        assertThat(r.exitCode()).as(r.err()).isZero();
        String[] lines = r.out().strip().split("\n");
        assertThat(lines).hasSize(300);
        float[] expected;
        float[] source;
        try (var g = dev.panllama.gguf.MappedGguf.open(file);
             var f32 = dev.panllama.gguf.MappedGguf.open(TestFiles.requireShared("reference/zoo/zoo-llama-f32.gguf"))) {
            assertThat(g.tensor("output.weight").type().name()).isEqualTo(type);
            expected = g.tensor("output.weight").firstValues(300);
            source = f32.tensor("output.weight").firstValues(300);
        }
        double err = 0, ref = 0;
        for (int i = 0; i < 300; i++) {
            float v = Float.parseFloat(lines[i]);
            assertThat(v).as("value %d", i).isEqualTo(expected[i]);
            err += (v - source[i]) * (double) (v - source[i]);
            ref += source[i] * (double) source[i];
        }
        assertThat(Math.sqrt(err / ref)).as(type + " relative RMSE against F32").isLessThan(0.4);
    }

    @Test
    void badInputIsOneLineAndExitOne(@TempDir Path dir) throws Exception {
        Path junk = dir.resolve("junk.gguf");
        Files.writeString(junk, "GGUF\u0003\u0000\u0000\u0000");
        CliRun r = CliRun.of("gguf", junk.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err().strip()).startsWith("panllama gguf: error: " + junk + ": at byte 8 (header.tensor_count)")
                .doesNotContain("\n").doesNotContain("Exception");

        CliRun missing = CliRun.of("gguf", dir.resolve("none.gguf").toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err().strip()).isEqualTo("panllama gguf: error: " + dir.resolve("none.gguf") + ": no such file");

        CliRun noTensor = CliRun.of("gguf", TestFiles.stories260K().toString(), "--tensor", "nope");
        assertThat(noTensor.exitCode()).isEqualTo(1);
        assertThat(noTensor.err()).contains("no tensor named 'nope'");
    }

    @Test
    void unknownFlagIsAUsageError() {
        CliRun r = CliRun.of("gguf", "--bogus");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown option: '--bogus'");
    }
}
