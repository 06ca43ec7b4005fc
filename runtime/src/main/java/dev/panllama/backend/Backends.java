package dev.panllama.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/** Discovery of {@link ComputeBackend}s on the class path. */
public final class Backends {
    private Backends() {}

    public static List<ComputeBackend> all() {
        List<ComputeBackend> out = new ArrayList<>();
        ServiceLoader.load(ComputeBackend.class).forEach(out::add);
        out.sort(Comparator.comparingInt(ComputeBackend::priority).reversed());
        return out;
    }

    /** Kernels of the best available CPU-side backend, or the scalar reference when none is registered. */
    public static Kernels cpuKernels(int threads) {
        for (ComputeBackend b : all()) {
            if (b.name().equals("CPU") && b.isAvailable()) return b.createKernels(threads);
        }
        return new ReferenceKernels();
    }
}
