package dev.panllama.scheduler;

import dev.panllama.graph.Graph;
import dev.panllama.graph.Node;
import dev.panllama.graph.Op;
import dev.panllama.graph.Slot;
import dev.panllama.graph.Value;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A graph cut into splits, the way ggml-backend-sched cuts one: each node gets a device (the device of
 * its weight, unless an accelerator offloads the op of a host weight, {@link
 * dev.panllama.backend.Device#offloadsOp}; a node without one follows its inputs; the batch's input and
 * the logits' output are on the host), consecutive nodes of one device form a split, and a value read on a device other
 * than the one holding it is copied there once, before the split that first reads it. Later readers
 * on that device use the copy.
 *
 * <p>Scheduling simulates which value each slot of each device holds, so a graph that overwrites a
 * value before a later node reads it is refused here, before anything runs.
 */
public final class Schedule {

    /** One step of a split: a node to run, or a value to copy in from another device first. */
    public sealed interface Step {}

    public record Run(Node node) implements Step {}

    public record Copy(Value value, int from, int to) implements Step {}

    /** Nodes of one device in execution order, each preceded by the copies it needs. */
    public record Split(int device, List<Step> steps) {
        public List<Node> nodes() { return steps.stream().filter(s -> s instanceof Run).map(s -> ((Run) s).node()).toList(); }

        public List<Copy> copies() { return steps.stream().filter(s -> s instanceof Copy).map(s -> (Copy) s).toList(); }
    }

    private final List<Split> splits;
    private final int crossingEdges;
    private final int copies;
    private final long copiedBytes;

    private Schedule(List<Split> splits, int crossingEdges) {
        this.splits = List.copyOf(splits);
        this.crossingEdges = crossingEdges;
        int c = 0;
        long bytes = 0;
        for (Split s : splits) {
            for (Copy cp : s.copies()) {
                c++;
                bytes += cp.value().bytes();
            }
        }
        this.copies = c;
        this.copiedBytes = bytes;
    }

    public static Schedule of(Graph graph, ExecutionPlan plan) {
        int devices = plan.deviceCount();
        int[] producer = new int[graph.valueCount()];       // value -> device that computed it
        int[][] held = new int[devices][Slot.values().length];
        for (int[] h : held) Arrays.fill(h, -1);
        Set<Long> crossing = new HashSet<>();
        List<Split> splits = new ArrayList<>();
        List<Step> steps = null;
        int current = -1;
        for (Node n : graph.nodes()) {
            int d = assign(n, plan, producer);
            if (d != current) {
                steps = new ArrayList<>();
                splits.add(new Split(d, steps));
                current = d;
            }
            for (Value v : n.inputs()) {
                int slot = v.slot().ordinal();
                if (producer[v.id()] != d) crossing.add((long) v.id() * devices + d);
                if (held[d][slot] == v.id()) continue;
                int from = holder(held, v, producer[v.id()]);
                if (from < 0) {
                    throw new IllegalStateException("graph error: " + v + " was overwritten in slot " + v.slot()
                            + " before node " + n.index() + " (" + n.op().name() + ") read it");
                }
                steps.add(new Copy(v, from, d));
                held[d][slot] = v.id();
            }
            steps.add(new Run(n));
            for (Value v : n.outputs()) {
                producer[v.id()] = d;
                held[d][v.slot().ordinal()] = v.id();
            }
        }
        return new Schedule(splits, crossing.size());
    }

    private static int assign(Node n, ExecutionPlan plan, int[] producer) {
        Op op = n.op();
        if (op.onHost()) return ExecutionPlan.HOST;
        // -nkvo: the KV cache lives in host memory, so storing into it and attending over it run there.
        if (!plan.placement().kvOffload() && (op instanceof Op.KvStore || op instanceof Op.Attention)) return ExecutionPlan.HOST;
        if (op.placedBy() != null) {
            int d = plan.deviceIndex(op.placedBy());
            if (d == ExecutionPlan.HOST && plan.placement().opOffload()) {
                // Op offload: the first accelerator that wants this op streams the host weight to itself.
                for (int a = 0; a < plan.deviceCount(); a++) {
                    if (!plan.device(a).isHost() && plan.device(a).offloadsOp(op)) return a;
                }
            }
            return d;
        }
        if (n.inputs().isEmpty()) return ExecutionPlan.HOST;
        if (op.followsFirstInput()) return producer[n.input(0).id()];
        for (Value v : n.inputs()) if (producer[v.id()] != ExecutionPlan.HOST) return producer[v.id()];
        return producer[n.input(0).id()];
    }

    /** A device holding the value, its producer first; -1 when no slot holds it any more. */
    private static int holder(int[][] held, Value v, int producer) {
        int slot = v.slot().ordinal();
        if (held[producer][slot] == v.id()) return producer;
        for (int d = 0; d < held.length; d++) if (held[d][slot] == v.id()) return d;
        return -1;
    }

    public List<Split> splits() { return splits; }

    /** Copies between devices this schedule makes. */
    public int copies() { return copies; }

    public long copiedBytes() { return copiedBytes; }

    /**
     * Edges of the graph that cross devices, counted as (value, device that reads it elsewhere) pairs:
     * what the copies must be, counted from the graph alone (each such pair needs one copy, and no more
     * while no slot overwrites the copy).
     */
    public int crossingEdges() { return crossingEdges; }

    /**
     * Every node in order with its device, inputs and output, and the copies before it; what
     * {@code --print-graph} shows (ggml's GGML_SCHED_DEBUG listing).
     */
    public String describeNodes(ExecutionPlan plan) {
        StringBuilder sb = new StringBuilder();
        for (Split s : splits) {
            String dev = plan.device(s.device()).name();
            for (Step st : s.steps()) {
                switch (st) {
                    case Copy c -> sb.append(String.format(Locale.ROOT, "       %-8s copy %s from %s%n", dev, c.value(), plan.device(c.from()).name()));
                    case Run r -> sb.append(String.format(Locale.ROOT, "%5d  %-8s %s%s%n", r.node().index(), dev, r.node().op().name(),
                            (r.node().inputs().isEmpty() ? "" : " " + r.node().inputs())
                                    + (r.node().outputs().isEmpty() ? "" : " -> " + r.node().outputs())));
                }
            }
        }
        return sb.toString();
    }

    /**
     * The splits, one line each (device, nodes, first and last node, the values copied in), and a total
     * line; what {@code --print-splits} shows.
     */
    public String describe(ExecutionPlan plan) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < splits.size(); i++) {
            Split s = splits.get(i);
            List<Node> runs = s.nodes();
            sb.append(String.format(Locale.ROOT, "split %d: %s, %d nodes (%s .. %s)", i, plan.device(s.device()).name(),
                    runs.size(), runs.getFirst(), runs.getLast()));
            List<Copy> cps = s.copies();
            if (!cps.isEmpty()) {
                sb.append("; copies in:");
                for (Copy c : cps) {
                    sb.append(' ').append(c.value().name()).append(" from ").append(plan.device(c.from()).name())
                            .append(" (").append(c.value().bytes()).append(" B)");
                }
            }
            sb.append('\n');
        }
        sb.append(String.format(Locale.ROOT, "%d splits, %d copies between devices, %d bytes copied%n", splits.size(), copies, copiedBytes));
        return sb.toString();
    }
}
