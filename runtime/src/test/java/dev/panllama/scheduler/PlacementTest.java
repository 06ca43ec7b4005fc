package dev.panllama.scheduler;

import dev.panllama.backend.DeviceSet;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The rule semantics of -ot / --cpu-moe / --n-cpu-moe / -ngl / -dev, as llama.cpp defines them. */
class PlacementTest {
    private static final int LAYERS = 3;
    private static DeviceSet devices;
    private static List<Tensor> tensors;

    @BeforeAll
    static void setUp() {
        devices = DeviceSet.discover(1);     // CPU (the reference fallback here) and CPU_REF
        tensors = new ArrayList<>();
        for (String n : new String[]{"token_embd.weight", "output_norm.weight", "output.weight"}) tensors.add(tensor(n));
        for (int i = 0; i < LAYERS; i++) {
            for (String n : new String[]{"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm",
                    "ffn_gate_inp", "ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"}) {
                tensors.add(tensor("blk." + i + "." + n + ".weight"));
            }
        }
    }

    @AfterAll
    static void tearDown() {
        devices.close();
    }

    private static Tensor tensor(String name) {
        return new Tensor(name, GgmlType.F32, new long[]{4}, MemorySegment.ofArray(new float[4]));
    }

    private static Placement plan(PlacementSettings s) {
        return Placement.plan(tensors, LAYERS, s, devices);
    }

    @Test
    void everythingOnTheCpuByDefault() {
        Placement p = plan(PlacementSettings.CPU_ONLY);
        assertThat(p.entries()).allMatch(e -> e.device().equals("CPU"));
        assertThat(p.isSplit()).isFalse();
    }

    @Test
    void unanchoredSearchAndFirstMatchWins() {
        Placement p = plan(PlacementSettings.CPU_ONLY.withOverrides("attn=CPU_REF,blk\\.0\\.=CPU"));
        assertThat(p.deviceOf("blk.0.attn_q.weight")).isEqualTo("CPU_REF");          // first rule
        assertThat(p.deviceOf("blk.2.attn_norm.weight")).isEqualTo("CPU_REF");       // "attn" anywhere in the name
        assertThat(p.deviceOf("blk.0.ffn_up_exps.weight")).isEqualTo("CPU");
        Placement reversed = plan(PlacementSettings.CPU_ONLY.withOverrides("blk\\.0\\.=CPU,attn=CPU_REF"));
        assertThat(reversed.deviceOf("blk.0.attn_q.weight")).isEqualTo("CPU");       // order matters
        assertThat(reversed.deviceOf("blk.1.attn_q.weight")).isEqualTo("CPU_REF");
    }

    @Test
    void repeatedFlagsKeepCommandLineOrder() {
        Placement p = plan(PlacementSettings.CPU_ONLY.withOverrides("ffn_up=CPU_REF", "ffn=CPU", "exps=CPU_REF"));
        assertThat(p.deviceOf("blk.1.ffn_up_exps.weight")).isEqualTo("CPU_REF");
        assertThat(p.deviceOf("blk.1.ffn_gate_exps.weight")).isEqualTo("CPU");       // "ffn" came before "exps"
        assertThat(p.entries().stream().filter(e -> e.tensor().equals("blk.1.ffn_gate_exps.weight")).findFirst().orElseThrow().reason())
                .isEqualTo("-ot ffn=CPU");
    }

    @Test
    void cpuMoeRulesComeAfterTheUsersAndRespectLayerLimits() {
        PlacementSettings userFirst = new PlacementSettings(List.of("blk\\.2\\.ffn_up_exps=CPU_REF"), true, 0, 0, List.of());
        Placement p = plan(userFirst);
        assertThat(p.deviceOf("blk.2.ffn_up_exps.weight")).isEqualTo("CPU_REF");
        assertThat(p.deviceOf("blk.2.ffn_down_exps.weight")).isEqualTo("CPU");
        assertThat(p.entries().stream().filter(e -> e.tensor().equals("blk.2.ffn_down_exps.weight")).findFirst().orElseThrow().reason())
                .isEqualTo("--cpu-moe");

        // Experts of the first N layers stay on the CPU even when everything else is offloaded.
        Placement n = plan(new PlacementSettings(List.of(), false, 2, 99, List.of("CPU_REF")));
        assertThat(n.deviceOf("blk.0.ffn_gate_exps.weight")).isEqualTo("CPU");
        assertThat(n.deviceOf("blk.1.ffn_down_exps.weight")).isEqualTo("CPU");
        assertThat(n.deviceOf("blk.2.ffn_up_exps.weight")).isEqualTo("CPU_REF");
        assertThat(n.deviceOf("blk.0.attn_q.weight")).isEqualTo("CPU_REF");
        assertThat(n.deviceOf("blk.0.ffn_gate_inp.weight")).isEqualTo("CPU_REF");   // the router is not an expert tensor
    }

    @Test
    void gpuLayersOffloadTheLastLayersAndTheOutputOnlyBeyondTheLayerCount() {
        Placement none = plan(PlacementSettings.CPU_ONLY.withGpuLayers(0, "CPU_REF"));
        assertThat(none.isSplit()).isFalse();

        Placement one = plan(PlacementSettings.CPU_ONLY.withGpuLayers(1, "CPU_REF"));
        assertThat(one.deviceOf("blk.2.attn_q.weight")).isEqualTo("CPU_REF");
        assertThat(one.deviceOf("blk.1.attn_q.weight")).isEqualTo("CPU");

        Placement all = plan(PlacementSettings.CPU_ONLY.withGpuLayers(LAYERS, "CPU_REF"));
        assertThat(all.deviceOf("blk.0.attn_q.weight")).isEqualTo("CPU_REF");
        assertThat(all.deviceOf("output.weight")).isEqualTo("CPU");                   // N == n_layer: output stays
        assertThat(all.deviceOf("output_norm.weight")).isEqualTo("CPU");
        assertThat(all.deviceOf("token_embd.weight")).isEqualTo("CPU");

        Placement beyond = plan(PlacementSettings.CPU_ONLY.withGpuLayers(LAYERS + 1, "CPU_REF"));
        assertThat(beyond.deviceOf("output.weight")).isEqualTo("CPU_REF");
        assertThat(beyond.deviceOf("output_norm.weight")).isEqualTo("CPU_REF");
        assertThat(beyond.deviceOf("token_embd.weight")).isEqualTo("CPU");           // never offloaded
    }

    @Test
    void overridesBeatGpuLayers() {
        Placement p = plan(new PlacementSettings(List.of("exps=CPU"), false, 0, 99, List.of("CPU_REF")));
        assertThat(p.deviceOf("blk.1.ffn_up_exps.weight")).isEqualTo("CPU");
        assertThat(p.deviceOf("blk.1.attn_v.weight")).isEqualTo("CPU_REF");
        assertThat(p.report()).contains("-ot exps=CPU").contains("totals:").contains("CPU_REF");
    }

    @Test
    void gpuLayersWithoutAnOffloadDeviceAreIgnoredWithANote() {
        Placement p = plan(PlacementSettings.CPU_ONLY.withGpuLayers(99));
        assertThat(p.isSplit()).isFalse();
        assertThat(p.notes()).singleElement().asString().contains("-ngl 99 is ignored");
    }

    @Test
    void badRulesAreClearErrors() {
        assertThatThrownBy(() -> plan(PlacementSettings.CPU_ONLY.withOverrides("exps=GPU")))
                .hasMessage("-ot exps=GPU: unknown buffer type 'GPU' (available: CPU, CPU_REF)");
        assertThatThrownBy(() -> plan(PlacementSettings.CPU_ONLY.withOverrides("blk\\.[0-=CPU")))
                .hasMessageStartingWith("-ot 'blk\\.[0-=CPU': bad regex 'blk\\.[0-'");
        assertThatThrownBy(() -> plan(PlacementSettings.CPU_ONLY.withOverrides("exps")))
                .hasMessageContaining("expected REGEX=BUFFER");
        assertThatThrownBy(() -> plan(PlacementSettings.CPU_ONLY.withGpuLayers(2, "CUDA7")))
                .hasMessageContaining("unknown buffer type 'CUDA7'");
    }
}
