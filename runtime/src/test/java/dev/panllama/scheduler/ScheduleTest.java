package dev.panllama.scheduler;

import dev.panllama.backend.Buffer;
import dev.panllama.backend.DeviceRunner;
import dev.panllama.backend.DeviceSet;
import dev.panllama.graph.Graph;
import dev.panllama.graph.Node;
import dev.panllama.graph.Slot;
import dev.panllama.graph.Value;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The scheduler on small hand-made graphs over CPU and CPU_REF: where nodes run, which values are
 * copied (once per value and device), graphs that overwrite a value still needed are refused, and a
 * host runner refuses a buffer of another device.
 */
class ScheduleTest {
    private static DeviceSet devices;
    private static final int K = 4;
    private static final Tensor A = weight("blk.0.attn_q.weight", 1f), B = weight("blk.0.ffn_up_exps.weight", 2f);

    @BeforeAll
    static void setUp() {
        devices = DeviceSet.discover(1);
    }

    @AfterAll
    static void tearDown() {
        devices.close();
    }

    /** A K x K weight of {@code v} on the diagonal. */
    private static Tensor weight(String name, float v) {
        float[] w = new float[K * K];
        for (int i = 0; i < K; i++) w[i * K + i] = v;
        return new Tensor(name, GgmlType.F32, new long[]{K, K}, MemorySegment.ofArray(w));
    }

    private static ExecutionPlan plan(String... overrides) {
        Placement p = Placement.plan(List.of(A, B), 1, PlacementSettings.CPU_ONLY.withOverrides(overrides), devices);
        return ExecutionPlan.of(p, devices);
    }

    /** in → A (CPU) → B (by rule) → add(B's out, A's out) → output. */
    private static Graph chain(float[] input, float[] result) {
        Graph g = new Graph();
        Value x = g.input("x", Slot.RESIDUAL, input, K);
        Value a = g.matmul(A, x, 1, "a", Slot.NORMED);
        Value b = g.matmul(B, a, 1, "b", Slot.BLOCK_OUT);
        Value sum = g.add(b, a, "sum", Slot.BLOCK_OUT);
        g.output(sum, result);
        return g;
    }

    @Test
    void oneDeviceCopiesNothing() {
        float[] out = new float[K];
        ExecutionPlan plan = plan();
        Schedule s = Schedule.of(chain(new float[]{1, 2, 3, 4}, out), plan);
        assertThat(s.splits()).hasSize(1);
        assertThat(s.copies()).isZero();
        new GraphExecutor(plan).run(s);
        assertThat(out).containsExactly(3, 6, 9, 12);       // 2a + a
    }

    @Test
    void eachCrossingValueIsCopiedOncePerDevice() {
        float[] out = new float[K];
        ExecutionPlan plan = plan("exps=CPU_REF");
        Schedule s = Schedule.of(chain(new float[]{1, 2, 3, 4}, out), plan);
        // a goes to CPU_REF once (read by B and by the add, which follows b there); the sum comes back for the output.
        assertThat(s.splits()).extracting(Schedule.Split::device).containsExactly(0, 1, 0);
        assertThat(s.copies()).isEqualTo(2).isEqualTo(s.crossingEdges());
        assertThat(s.splits().get(1).copies()).extracting(c -> c.value().name()).containsExactly("a");
        GraphExecutor ex = new GraphExecutor(plan);
        ex.run(s);
        assertThat(out).containsExactly(3, 6, 9, 12);
        assertThat(ex.copies()).isEqualTo(2);
        assertThat(ex.copiedBytes()).isEqualTo(2L * 4 * K);
    }

    @Test
    void aValueOverwrittenBeforeItsLastReadIsRefused() {
        Graph g = new Graph();
        Value x = g.input("x", Slot.RESIDUAL, new float[K], K);
        Value a = g.matmul(A, x, 1, "a", Slot.NORMED);
        g.matmul(A, a, 1, "a2", Slot.NORMED);                 // overwrites a in NORMED...
        Value late = g.matmul(B, a, 1, "late", Slot.BLOCK_OUT); // ...which this still reads
        g.output(late, new float[K]);
        assertThatThrownBy(() -> Schedule.of(g, plan())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("a was overwritten in slot NORMED");
    }

    @Test
    void aRunnerRefusesAnotherDevicesBuffer() {
        ExecutionPlan plan = plan("exps=CPU_REF");
        DeviceRunner cpu = plan.device(0).newRunner(), ref = plan.device(1).newRunner();
        Graph g = new Graph();
        Value x = g.input("x", Slot.RESIDUAL, new float[K], K);
        g.matmul(B, x, 1, "b", Slot.NORMED);
        Node n = g.nodes().get(1);
        Buffer foreign = cpu.allocate(Slot.RESIDUAL, K, false);
        Buffer own = ref.allocate(Slot.NORMED, K, false);
        assertThatThrownBy(() -> ref.run(n, new Buffer[]{foreign}, new Buffer[]{own}))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("CPU_REF was given a buffer of CPU without a copy");
    }
}
