package dev.panllama.model;

import dev.panllama.graph.Graph;
import dev.panllama.kv.KvCache;
import dev.panllama.scheduler.ExecutionPlan;
import dev.panllama.scheduler.GraphExecutor;
import dev.panllama.scheduler.Schedule;

/**
 * A forward pass as llama.cpp runs one: for each micro-batch the architecture builds its graph
 * ({@link Builder}), the scheduler cuts it into splits over the plan's devices ({@link Schedule}), and
 * the executor runs them with the activations on their devices ({@link GraphExecutor}). Building and
 * scheduling cost microseconds; the buffers persist between micro-batches. An instance serves one
 * session.
 */
public final class ForwardPass implements AutoCloseable {

    /** An architecture's graph of one micro-batch (llama.cpp's build_llama, build_deepseek2, ...). */
    interface Builder {
        Graph build(Batch batch);
    }

    private final ModelConfig config;
    private final ExecutionPlan plan;
    private final Builder builder;
    private final GraphExecutor executor;
    private Schedule last;

    ForwardPass(ModelConfig config, ExecutionPlan plan, Builder builder) {
        this.config = config;
        this.plan = plan;
        this.builder = builder;
        this.executor = new GraphExecutor(plan);
    }

    public ModelConfig config() { return config; }

    /**
     * Evaluates {@code n} tokens {@code tokens[off..off+n)} at positions {@code pos0..pos0+n-1}, storing
     * what later tokens attend to in {@code cache}. Writes the logits of tokens {@code logitsFrom..n-1} of
     * the batch into {@code logits} ({@code [n - logitsFrom][vocab]}); none when logitsFrom == n.
     */
    public void forward(int[] tokens, int off, int n, int pos0, KvCache cache, int logitsFrom, float[] logits) {
        forward(Batch.single(tokens, off, n, pos0, cache, logitsFrom, logits));
    }

    /** Evaluates a batch of one or more sequences (see {@link Batch}). */
    public void forward(Batch batch) {
        last = Schedule.of(builder.build(batch), plan);
        executor.run(last);
    }

    /** Copies between devices made so far (0 when everything runs on one device). */
    public int boundaryCopies() { return executor.copies(); }

    /** The splits of the last micro-batch, or null before the first. */
    public Schedule lastSchedule() { return last; }

    /** Frees the activation buffers. */
    @Override
    public void close() { executor.release(); }
}
