package dev.panllama.cpu;

import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.model.Session;
import dev.panllama.scheduler.PlacementSettings;
import dev.panllama.testing.LogitsOracle;
import dev.panllama.testing.TestFiles;
import dev.panllama.graph.Op;
import dev.panllama.scheduler.Schedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Placement does not change results: the zoo models split between CPU (Vector API) and CPU_REF (the
 * scalar reference) by -ot rules or -ngl give the all-CPU logits within issue 4's F16 criterion
 * (d_p <= 0.02 at >= 95% of positions, mean |d| <= 0.015; quantized files: d_p <= 0.25 at >= 90%,
 * mean |d| <= 0.04, since only the CPU device rounds activations to 8 bits), with activations really
 * copied across the boundary; and the split run still matches llama.cpp.
 */
class SplitExecutionTest {

    @ParameterizedTest(name = "{0} with {1}")
    @CsvSource(delimiter = '|', value = {
            "zoo-llama-F16     | exps=CPU_REF",
            "zoo-llama-F16     | attn=CPU_REF",
            "zoo-llama-F16     | blk\\.1\\.=CPU_REF",
            "zoo-qwen3moe-F16  | exps=CPU_REF",
            "zoo-qwen3moe-F16  | attn=CPU_REF",
            "zoo-qwen3moe-F16  | blk\\.1\\.=CPU_REF",
            "zoo-llama-Q4_0    | blk\\.1\\.=CPU_REF",
            "zoo-llama-Q4_0    | ffn_down=CPU_REF,output=CPU_REF"})
    void splitMatchesAllCpu(String name, String rule) throws IOException {
        Path file = TestFiles.requireZoo(name + ".gguf");
        LogitsOracle oracle = LogitsOracle.zoo(name);
        boolean quantized = !name.endsWith("F16");
        float[] allCpu = logits(file, PlacementSettings.CPU_ONLY, oracle.tokens(), false);
        float[] split = logits(file, PlacementSettings.CPU_ONLY.withOverrides(rule), oracle.tokens(), true);
        LogitsOracle.Comparison vsCpu = LogitsOracle.Comparison.between(split, allCpu, oracle.tokens().length);
        System.out.println(name + " -ot " + rule + " vs all-CPU: " + vsCpu);
        assertCriterion(vsCpu, quantized);
        assertCriterion(oracle.compare(split), quantized);
    }

    /** -ngl N with -dev CPU_REF: the last layers (and the output layer when N > n_layer) on the second device. */
    @ParameterizedTest(name = "zoo-llama-Q4_0 -ngl {0}")
    @CsvSource({"1", "2", "3"})
    void gpuLayersOnTheReferenceDevice(int ngl) throws IOException {
        Path file = TestFiles.requireZoo("zoo-llama-Q4_0.gguf");
        LogitsOracle oracle = LogitsOracle.zoo("zoo-llama-Q4_0");
        float[] split = logits(file, PlacementSettings.CPU_ONLY.withGpuLayers(ngl, "CPU_REF"), oracle.tokens(), true);
        LogitsOracle.Comparison c = oracle.compare(split);
        System.out.println("zoo-llama-Q4_0 -ngl " + ngl + " -dev CPU_REF vs llama.cpp: " + c);
        assertCriterion(c, true);
    }

    /**
     * -nkvo: with every layer on CPU_REF, the KV stores and attention still run on the CPU (the cache in
     * host memory, as llama.cpp's --no-kv-offload), and the logits still match llama.cpp.
     */
    @Test
    void noKvOffloadKeepsAttentionOnTheCpu() throws IOException {
        Path file = TestFiles.requireZoo("zoo-llama-Q4_0.gguf");
        LogitsOracle oracle = LogitsOracle.zoo("zoo-llama-Q4_0");
        PlacementSettings placement = PlacementSettings.CPU_ONLY.withGpuLayers(99, "CPU_REF").withKvOffload(false);
        try (Model model = Model.load(file, ModelOptions.DEFAULTS.withThreads(2).withContextLength(64).withPlacement(placement))) {
            Schedule schedule = model.schedule(1);
            int attention = 0, matmuls = 0;
            for (Schedule.Split split : schedule.splits()) {
                String device = model.plan().device(split.device()).name();
                for (Schedule.Step step : split.steps()) {
                    if (!(step instanceof Schedule.Run run)) continue;
                    if (run.node().op() instanceof Op.KvStore || run.node().op() instanceof Op.Attention) {
                        assertThat(device).as(run.node().toString()).isEqualTo("CPU");
                        attention++;
                    } else if (run.node().op() instanceof Op.MatMul) {
                        assertThat(device).as(run.node().toString()).isEqualTo("CPU_REF");
                        matmuls++;
                    }
                }
            }
            assertThat(attention).isEqualTo(2 * model.config().blockCount());
            assertThat(matmuls).isPositive();
        }
        float[] split = logits(file, placement, oracle.tokens(), true);
        LogitsOracle.Comparison c = oracle.compare(split);
        System.out.println("zoo-llama-Q4_0 -ngl 99 -dev CPU_REF -nkvo vs llama.cpp: " + c);
        assertCriterion(c, true);
    }

    private static void assertCriterion(LogitsOracle.Comparison c, boolean quantized) {
        assertThat(c.fractionWithin(quantized ? 0.25 : 0.02)).isGreaterThanOrEqualTo(quantized ? 0.90 : 0.95);
        assertThat(c.meanAbs()).isLessThanOrEqualTo(quantized ? 0.04 : 0.015);
    }

    private static float[] logits(Path file, PlacementSettings placement, int[] tokens, boolean split) throws IOException {
        try (Model model = Model.load(file, ModelOptions.DEFAULTS.withThreads(2).withContextLength(64).withPlacement(placement));
             Session s = model.newSession()) {
            float[] out = s.evaluateAll(tokens);
            // A rule may match nothing (a dense model has no "exps"): then nothing is split and nothing copied.
            if (split && model.placement().isSplit()) {
                assertThat(s.boundaryCopies()).as("activation copies between CPU and CPU_REF").isPositive();
            } else {
                assertThat(s.boundaryCopies()).isZero();
            }
            return out;
        }
    }
}
