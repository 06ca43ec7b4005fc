package dev.panllama.graph;

import java.util.List;

/** One operation of the graph: reads {@code inputs}, writes {@code outputs}. */
public record Node(int index, Op op, List<Value> inputs, List<Value> outputs) {
    public Value input(int i) { return inputs.get(i); }

    public Value output(int i) { return outputs.get(i); }

    @Override
    public String toString() {
        return op.name() + (outputs.isEmpty() ? "" : " -> " + outputs.getFirst());
    }
}
