package dev.panllama.cpu;

import dev.panllama.backend.ComputeBackend;
import dev.panllama.backend.Kernels;
import jdk.incubator.vector.FloatVector;

/** The CPU backend: Vector API kernels on a pool of {@code -t} threads. Registered for ServiceLoader. */
public final class CpuBackend implements ComputeBackend {

    @Override
    public String name() { return "CPU"; }

    @Override
    public int priority() { return 10; }

    @Override
    public boolean isAvailable() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 128;
    }

    @Override
    public String unavailableReason() {
        return isAvailable() ? "" : "the JVM offers no SIMD vectors of 128 bits or more on this CPU";
    }

    @Override
    public Kernels createKernels(int threads) {
        return new CpuKernels(threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
    }
}
