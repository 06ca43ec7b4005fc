package dev.panllama.gpu;

import dev.panllama.backend.ComputeBackend;
import dev.panllama.backend.Device;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.List;

/**
 * CUDA through jcuda's driver API: devices {@code CUDA0..N}. Registered for ServiceLoader; where it cannot
 * run (jcuda's native library or the NVIDIA driver missing, cuInit failing, no device, the kernels not
 * built into the jar) it says why and everything else runs as before. The check runs once per process.
 */
public final class CudaBackend implements ComputeBackend {

    /** The outcome of looking for CUDA: a reason it cannot run, or null and the device count. */
    record Probe(String reason, int deviceCount) {
        boolean available() { return reason == null; }
    }

    private static Probe probe;

    @Override
    public String name() { return "CUDA"; }

    @Override
    public boolean isAvailable() { return probe().available(); }

    @Override
    public String unavailableReason() {
        Probe p = probe();
        return p.available() ? "" : p.reason();
    }

    @Override
    public List<Device> devices(int threads) {
        Probe p = probe();
        List<Device> out = new ArrayList<>();
        for (int i = 0; p.available() && i < p.deviceCount(); i++) out.add(new CudaDevice(i));
        return out;
    }

    static synchronized Probe probe() {
        if (probe == null) probe = look();
        return probe;
    }

    private static Probe look() {
        try {
            // Loads jcuda's JNI library, which links libcuda.so.1: the first place a missing driver shows.
            JCudaDriver.setExceptionsEnabled(false);
        } catch (LinkageError | RuntimeException e) {
            return new Probe(Unavailability.nativeLibrary(e), 0);
        }
        int rc = JCudaDriver.cuInit(0);
        if (rc != CUresult.CUDA_SUCCESS) return new Probe(Unavailability.cuInit(rc, CUresult.stringFor(rc)), 0);
        int[] count = new int[1];
        rc = JCudaDriver.cuDeviceGetCount(count);
        if (rc != CUresult.CUDA_SUCCESS) return new Probe("cuDeviceGetCount failed: " + CUresult.stringFor(rc), 0);
        if (count[0] == 0) return new Probe(Unavailability.noDevices(), 0);
        String missing = KernelSources.missingPtx();
        if (missing != null) return new Probe(Unavailability.missingKernels(missing), 0);
        return new Probe(null, count[0]);
    }
}
