package dev.panllama.model;

import dev.panllama.graph.Graph;
import dev.panllama.scheduler.ExecutionPlan;
import dev.panllama.scheduler.GraphExecutor;
import dev.panllama.scheduler.Schedule;

/**
 * A forward pass as llama.cpp runs one: for each micro-batch the architecture builds its graph
 * ({@link Builder}), the scheduler cuts it into splits over the plan's devices ({@link Schedule}), and
 * the executor runs them with the activations on their devices ({@link GraphExecutor}). Building and
 * scheduling cost microseconds; the buffers persist between micro-batches.
 */
final class GraphForwardPass implements ForwardPass {

    /** An architecture's graph of one micro-batch (llama.cpp's build_llama, build_deepseek2, ...). */
    interface Builder {
        Graph build(Batch batch);
    }

    private final ModelConfig config;
    private final ExecutionPlan plan;
    private final Builder builder;
    private final GraphExecutor executor;
    private Schedule last;

    GraphForwardPass(ModelConfig config, ExecutionPlan plan, Builder builder) {
        this.config = config;
        this.plan = plan;
        this.builder = builder;
        this.executor = new GraphExecutor(plan);
    }

    @Override
    public ModelConfig config() { return config; }

    @Override
    public void forward(int[] tokens, int off, int n, int pos0, KvCache cache, int logitsFrom, float[] logits) {
        Graph g = builder.build(new Batch(tokens, off, n, pos0, cache, logitsFrom, logits));
        last = Schedule.of(g, plan);
        executor.run(last);
    }

    @Override
    public int boundaryCopies() { return executor.copies(); }

    @Override
    public Schedule lastSchedule() { return last; }

    @Override
    public void close() { executor.release(); }
}
