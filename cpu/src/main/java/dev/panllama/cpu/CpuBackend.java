package dev.panllama.cpu;

import dev.panllama.backend.ComputeBackend;
import dev.panllama.backend.Device;
import dev.panllama.backend.HostDevice;
import dev.panllama.backend.Kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The CPU backend: device {@code CPU}, Vector API kernels on a pool of {@code -t} threads. Registered for ServiceLoader. */
public final class CpuBackend implements ComputeBackend {

    @Override
    public String name() { return "CPU"; }

    /** Always: without SIMD vectors of 128 bits the JVM emulates them, and the description says so. */
    @Override
    public boolean isAvailable() { return true; }

    @Override
    public List<Device> devices(int threads) {
        return devices(threads, threads);
    }

    @Override
    public List<Device> devices(int threads, int batchThreads) {
        Kernels kernels = createKernels(threads, batchThreads);
        return List.of(new HostDevice("CPU", cpuModel() + ", " + kernels.description(), kernels));
    }

    /** Kernels using {@code threads} threads (≤ 0: all cores). */
    public Kernels createKernels(int threads) {
        return createKernels(threads, threads);
    }

    /** Kernels using {@code threads} threads for a token's work and {@code batchThreads} for a batch's (≤ 0: all cores). */
    public Kernels createKernels(int threads, int batchThreads) {
        int all = Runtime.getRuntime().availableProcessors();
        return new CpuKernels(threads > 0 ? threads : all, batchThreads > 0 ? batchThreads : all);
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux, or unreadable: the generic name below will do
        }
        return System.getProperty("os.arch");
    }
}
