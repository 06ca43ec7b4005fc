package dev.panllama.backend;

import java.util.List;

/**
 * {@code CPU_REF}: the scalar reference kernels as a device of their own. It runs everywhere, so
 * placing tensors on it ({@code -ot "exps=CPU_REF"}) exercises split execution and the copies at
 * device boundaries without any accelerator.
 */
public final class ReferenceBackend implements ComputeBackend {
    public static final String DEVICE = "CPU_REF";

    @Override
    public String name() { return DEVICE; }

    @Override
    public boolean isAvailable() { return true; }

    @Override
    public List<Device> devices(int threads) {
        return List.of(new HostDevice(DEVICE, "scalar reference kernels (codec decode + float dot), 1 thread", new ReferenceKernels()));
    }
}
