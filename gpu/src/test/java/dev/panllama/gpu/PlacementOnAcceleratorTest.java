package dev.panllama.gpu;

import dev.panllama.backend.Device;
import dev.panllama.model.Architecture;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.model.Session;
import dev.panllama.model.synth.SyntheticModel;
import dev.panllama.model.synth.SyntheticPreset;
import dev.panllama.graph.Op;
import dev.panllama.scheduler.ExecutionPlan;
import dev.panllama.scheduler.Schedule;
import dev.panllama.scheduler.Placement;
import dev.panllama.scheduler.PlacementSettings;
import dev.panllama.tensor.GgmlType;
import dev.panllama.testing.TestFiles;
import dev.panllama.util.ProgressListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * How -ngl and -ot pick an accelerator, with a non-host device found the way CUDA0 is (ServiceLoader) but
 * running everywhere: {@link FakeAcceleratorBackend}'s FAKE0, registered by a services file in a class
 * loader of this test's own. -ngl 99 without -dev offloads every layer and the output to the accelerator
 * (token_embd stays on the CPU); {@code -ot exps=CPU} keeps the experts on the CPU; the weights each
 * device receives and runs are exactly those, and the split model computes what the CPU alone does.
 */
class PlacementOnAcceleratorTest {
    private static final int[] TOKENS = {1, 403, 407, 261, 378, 432, 383};

    @TempDir
    static Path dir;
    private static Path model;
    private static ClassLoader previous;

    @BeforeAll
    static void setUp() throws IOException {
        model = dir.resolve("tiny-qwen3moe.gguf");
        SyntheticModel.of(Architecture.QWEN3MOE, SyntheticPreset.TINY, 2, GgmlType.F16, 7)
                .write(model, TestFiles.stories260K(), 1, ProgressListener.NONE);
        Path services = dir.resolve("services/META-INF/services/dev.panllama.backend.ComputeBackend");
        Files.createDirectories(services.getParent());
        Files.writeString(services, FakeAcceleratorBackend.class.getName() + "\n");
        previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(new URLClassLoader(new URL[]{dir.resolve("services").toUri().toURL()}, previous));
    }

    @AfterAll
    static void tearDown() {
        Thread.currentThread().setContextClassLoader(previous);
    }

    @Test
    void gpuLayersOffloadEverythingButTheEmbeddingsToTheAccelerator() throws IOException {
        float[] cpu = logits(PlacementSettings.CPU_ONLY);
        try (Model m = load(new PlacementSettings(List.of(), false, 0, 99, List.of()))) {
            assumeOnlyFakeAccelerator(m);
            for (Placement.Entry e : m.placement().entries()) {
                String expected = e.tensor().startsWith("token_embd.") ? "CPU" : "FAKE0";
                assertThat(e.device()).as(e.tensor()).isEqualTo(expected);
            }
            ExecutionPlan plan = m.plan();
            for (int l = 0; l < m.config().blockCount(); l++) {
                for (String role : new String[]{"attn_q", "attn_k", "attn_output", "ffn_gate_inp", "ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"}) {
                    assertThat(plan.device(plan.deviceIndex("blk." + l + "." + role + ".weight")).name()).isEqualTo("FAKE0");
                }
            }
            assertThat(plan.device(plan.deviceIndex("output.weight")).name()).isEqualTo("FAKE0");
            FakeAcceleratorBackend.FakeDevice fake = fake(m);
            assertThat(fake.placed).contains("blk.0.attn_q.weight", "blk.1.ffn_down_exps.weight", "output.weight")
                    .noneMatch(n -> n.startsWith("token_embd"));
            assertEqualLogits(cpu, logits(m));
            assertThat(fake.multiplied).contains("blk.1.ffn_gate_exps.weight", "output.weight");
            assertThat(fake.attentionCalls).isPositive();
        }
    }

    @Test
    void expertsOverriddenToTheCpuStayThere() throws IOException {
        float[] cpu = logits(PlacementSettings.CPU_ONLY);
        try (Model m = load(new PlacementSettings(List.of("exps=CPU"), false, 0, 99, List.of()))) {
            assumeOnlyFakeAccelerator(m);
            for (Placement.Entry e : m.placement().entries()) {
                if (e.tensor().contains("_exps.")) {
                    assertThat(e.device()).as(e.tensor()).isEqualTo("CPU");
                    assertThat(e.reason()).isEqualTo("-ot exps=CPU");
                } else if (e.tensor().startsWith("blk.")) {
                    assertThat(e.device()).as(e.tensor()).isEqualTo("FAKE0");
                }
            }
            ExecutionPlan plan = m.plan();
            for (String role : new String[]{"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"}) {
                assertThat(plan.deviceIndex("blk.1." + role + ".weight")).isEqualTo(ExecutionPlan.HOST);
            }
            assertThat(plan.device(plan.deviceIndex("blk.1.ffn_gate_inp.weight")).name()).isEqualTo("FAKE0");
            FakeAcceleratorBackend.FakeDevice fake = fake(m);
            assertThat(fake.placed).contains("blk.1.ffn_gate_inp.weight").noneMatch(n -> n.contains("_exps"));
            try (Session s = m.newSession()) {
                assertEqualLogits(cpu, s.evaluateAll(TOKENS));
                assertThat(s.boundaryCopies()).as("activations copied between FAKE0 and the CPU").isPositive();
            }
            assertThat(fake.multiplied).contains("blk.1.ffn_gate_inp.weight", "blk.1.attn_k.weight").noneMatch(n -> n.contains("_exps"));
        }
    }

    /**
     * Op offload: with the experts kept on the CPU, a batch of 32 tokens runs their matmuls on the
     * accelerator (the weights streamed), a single token on the CPU; --no-op-offload keeps them home.
     */
    @Test
    void largeBatchesStreamHostExpertsToTheAccelerator() throws IOException {
        int[] batch = new int[CudaDevice.OP_OFFLOAD_MIN_BATCH];
        for (int i = 0; i < batch.length; i++) batch[i] = TOKENS[i % TOKENS.length];
        float[] cpu;
        try (Model m = load(PlacementSettings.CPU_ONLY); Session s = m.newSession()) {
            cpu = s.evaluateAll(batch);
        }
        PlacementSettings expertsHome = new PlacementSettings(List.of("exps=CPU"), false, 0, 99, List.of());
        try (Model m = load(expertsHome); Session s = m.newSession()) {
            assumeOnlyFakeAccelerator(m);
            assertEqualLogits(cpu, s.evaluateAll(batch));
            assertThat(fake(m).streamed).contains("blk.1.ffn_gate_exps.weight", "blk.1.ffn_up_exps.weight", "blk.1.ffn_down_exps.weight");
            assertThat(nodesOf(m, s.lastSchedule(), Op.MatMulExperts.class)).containsOnly("FAKE0");
            s.clear();
            s.evaluate(TOKENS[0]);
            assertThat(nodesOf(m, s.lastSchedule(), Op.MatMulExperts.class)).containsOnly("CPU");
        }
        try (Model m = load(expertsHome.withOpOffload(false)); Session s = m.newSession()) {
            assertEqualLogits(cpu, s.evaluateAll(batch));
            assertThat(fake(m).streamed).isEmpty();
            assertThat(nodesOf(m, s.lastSchedule(), Op.MatMulExperts.class)).containsOnly("CPU");
        }
    }

    /** The device names of the schedule's nodes of one op type. */
    private static List<String> nodesOf(Model m, Schedule s, Class<? extends Op> type) {
        List<String> out = new java.util.ArrayList<>();
        for (Schedule.Split split : s.splits()) {
            for (Schedule.Step st : split.steps()) {
                if (st instanceof Schedule.Run r && type.isInstance(r.node().op())) out.add(m.plan().device(split.device()).name());
            }
        }
        return out;
    }

    private static void assumeOnlyFakeAccelerator(Model m) {
        List<String> acc = m.devices().accelerators().stream().map(Device::name).toList();
        String why = "other accelerators beside FAKE0 share the offloaded layers here: " + acc;
        if (!acc.equals(List.of("FAKE0"))) System.out.println("SKIPPED: " + why);
        assumeTrue(acc.equals(List.of("FAKE0")), why);
    }

    private static FakeAcceleratorBackend.FakeDevice fake(Model m) {
        return (FakeAcceleratorBackend.FakeDevice) m.devices().get("FAKE0");
    }

    private static Model load(PlacementSettings p) throws IOException {
        return Model.load(model, ModelOptions.DEFAULTS.withThreads(1).withContextLength(32).withPlacement(p));
    }

    private static float[] logits(PlacementSettings p) throws IOException {
        try (Model m = load(p)) {
            return logits(m);
        }
    }

    private static float[] logits(Model m) {
        try (Session s = m.newSession()) {
            return s.evaluateAll(TOKENS);
        }
    }

    private static void assertEqualLogits(float[] expected, float[] actual) {
        assertThat(actual).hasSameSizeAs(expected);
        double max = 0, scale = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - actual[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        System.out.printf("split vs all-CPU logits: max |d| %.2e (largest logit %.2f)%n", max, scale);
        assertThat(max).isLessThanOrEqualTo(1e-3 * Math.max(1, scale));
    }
}
