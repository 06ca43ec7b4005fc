package dev.panllama.gpu;

import org.junit.jupiter.api.Assumptions;

/** The gate of every *GpuTest: without a usable CUDA device they are skipped, saying why. */
final class GpuTests {
    private GpuTests() {}

    private static boolean told;

    /** Skips the calling test when CUDA cannot run here; the reason goes to stdout once per run. */
    static synchronized void requireCuda() {
        CudaBackend b = new CudaBackend();
        if (!b.isAvailable()) {
            String reason = "CUDA tests skipped: " + b.unavailableReason();
            if (!told) System.out.println(reason);
            told = true;
            Assumptions.abort(reason);
        }
    }

    /** CUDA0, which the caller closes. */
    static CudaDevice firstDevice() {
        requireCuda();
        return (CudaDevice) new CudaBackend().devices(1).getFirst();
    }
}
