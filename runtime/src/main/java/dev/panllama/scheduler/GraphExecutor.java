package dev.panllama.scheduler;

import dev.panllama.backend.Buffer;
import dev.panllama.backend.DeviceRunner;
import dev.panllama.graph.Node;
import dev.panllama.graph.Slot;
import dev.panllama.graph.Value;

/**
 * Runs {@link Schedule}s on the plan's devices: one {@link DeviceRunner} per device, and per device one
 * buffer per {@link Slot}, allocated by that device and grown when a larger batch needs it, kept between
 * micro-batches. A split runs on its device without the host in between; the host waits only for the
 * copies that land in host memory and, at the end of the graph, for every device to finish.
 */
public final class GraphExecutor {
    private final ExecutionPlan plan;
    private final DeviceRunner[] runners;
    private final Buffer[][] buffers;       // [device][slot]
    private int copies;
    private long copiedBytes;

    public GraphExecutor(ExecutionPlan plan) {
        this.plan = plan;
        this.runners = new DeviceRunner[plan.deviceCount()];
        for (int d = 0; d < runners.length; d++) runners[d] = plan.device(d).newRunner();
        this.buffers = new Buffer[runners.length][Slot.values().length];
    }

    public void run(Schedule schedule) {
        for (Schedule.Split split : schedule.splits()) {
            int d = split.device();
            DeviceRunner r = runners[d];
            for (Schedule.Step step : split.steps()) {
                switch (step) {
                    case Schedule.Copy c -> copy(c);
                    case Schedule.Run run -> {
                        Node n = run.node();
                        Buffer[] in = new Buffer[n.inputs().size()];
                        for (int i = 0; i < in.length; i++) in[i] = buffers[d][n.input(i).slot().ordinal()];
                        Buffer[] out = new Buffer[n.outputs().size()];
                        for (int i = 0; i < out.length; i++) out[i] = buffer(d, n.output(i));
                        r.run(n, in, out);
                    }
                }
            }
        }
        for (DeviceRunner r : runners) r.synchronize();
    }

    private void copy(Schedule.Copy c) {
        Value v = c.value();
        Buffer src = buffers[c.from()][v.slot().ordinal()];
        Buffer dst = buffer(c.to(), v);
        // The device that is not host memory moves the data (an upload or a download); host to host, the receiver.
        DeviceRunner r = !plan.device(c.from()).isHost() ? runners[c.from()] : runners[c.to()];
        r.copy(src, dst, v.length());
        copies++;
        copiedBytes += v.bytes();
    }

    /** The device's buffer of the value's slot, (re)allocated when it cannot hold the value. */
    private Buffer buffer(int device, Value v) {
        int slot = v.slot().ordinal();
        Buffer b = buffers[device][slot];
        if (b == null || b.capacity() < v.length()) {
            if (b != null) runners[device].release(b);
            b = buffers[device][slot] = runners[device].allocate(v.slot(), v.length(), v.ints());
        }
        return b;
    }

    /** Copies made between devices so far, and their bytes. */
    public int copies() { return copies; }

    public long copiedBytes() { return copiedBytes; }

    /** Frees every buffer (device memory is freed by its runner). */
    public void release() {
        for (int d = 0; d < buffers.length; d++) {
            for (int s = 0; s < buffers[d].length; s++) {
                if (buffers[d][s] != null) runners[d].release(buffers[d][s]);
                buffers[d][s] = null;
            }
        }
    }
}
