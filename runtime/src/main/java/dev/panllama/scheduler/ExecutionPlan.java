package dev.panllama.scheduler;

import dev.panllama.backend.Device;
import dev.panllama.backend.DeviceSet;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The devices a model's graph runs on, resolved once at load from a {@link Placement}: each device the
 * placement uses gets a small index (the host CPU is {@link #HOST}), and every weight the index of the
 * device holding it, which is where the {@link Schedule} runs the ops that use it.
 */
public final class ExecutionPlan {
    /** The CPU device's index (token embedding, the graph's input and output, everything unplaced). */
    public static final int HOST = 0;

    private final List<Device> devices;
    private final Map<String, Integer> deviceOfTensor;
    private final Placement placement;

    private ExecutionPlan(List<Device> devices, Map<String, Integer> deviceOfTensor, Placement placement) {
        this.devices = devices;
        this.deviceOfTensor = deviceOfTensor;
        this.placement = placement;
    }

    public static ExecutionPlan of(Placement placement, DeviceSet set) {
        List<Device> used = new ArrayList<>();
        used.add(set.cpu());
        Map<String, Integer> of = new HashMap<>();
        for (Placement.Entry e : placement.entries()) {
            Device d = set.get(e.device());
            int i = used.indexOf(d);
            if (i < 0) {
                used.add(d);
                i = used.size() - 1;
            }
            of.put(e.tensor(), i);
        }
        return new ExecutionPlan(List.copyOf(used), Map.copyOf(of), placement);
    }

    public int deviceCount() { return devices.size(); }

    public Device device(int index) { return devices.get(index); }

    /** The index of the device holding a weight; names the placement never saw are on the CPU. */
    public int deviceIndex(String tensor) {
        Integer i = deviceOfTensor.get(tensor);
        return i == null ? HOST : i;
    }

    public Placement placement() { return placement; }
}
