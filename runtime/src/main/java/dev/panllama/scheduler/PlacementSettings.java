package dev.panllama.scheduler;

import java.util.List;

/**
 * Where the user wants weights, as llama.cpp's flags say it.
 *
 * @param overrides    {@code -ot} values in command-line order (each a comma list of REGEX=BUFFER)
 * @param cpuMoe       {@code --cpu-moe}: every layer's expert tensors stay on the CPU
 * @param nCpuMoe      {@code --n-cpu-moe N}: the expert tensors of layers 0..N-1 stay on the CPU
 * @param gpuLayers    {@code -ngl N}: the last N repeating layers go to the offload device(s); more than
 *                     the layer count also offloads the output layer
 * @param offloadTo    {@code -dev} list: devices -ngl offloads to (default: the accelerators present)
 * @param opOffload    llama.cpp's op offload (off with {@code --no-op-offload}): an accelerator may run a
 *                     large batch's matmul whose weight stays in host memory, streaming the weight to it
 * @param kvOffload    the KV cache and attention of offloaded layers on their device (off with llama.cpp's
 *                     {@code -nkvo}: the cache stays in host memory and the CPU runs attention)
 */
public record PlacementSettings(List<String> overrides, boolean cpuMoe, int nCpuMoe, int gpuLayers, List<String> offloadTo,
                                boolean opOffload, boolean kvOffload) {

    public static final PlacementSettings CPU_ONLY = new PlacementSettings(List.of(), false, 0, 0, List.of());

    /** With op offload and KV offload on, as llama.cpp defaults. */
    public PlacementSettings(List<String> overrides, boolean cpuMoe, int nCpuMoe, int gpuLayers, List<String> offloadTo) {
        this(overrides, cpuMoe, nCpuMoe, gpuLayers, offloadTo, true, true);
    }

    /** With KV offload on, as llama.cpp defaults. */
    public PlacementSettings(List<String> overrides, boolean cpuMoe, int nCpuMoe, int gpuLayers, List<String> offloadTo, boolean opOffload) {
        this(overrides, cpuMoe, nCpuMoe, gpuLayers, offloadTo, opOffload, true);
    }

    public PlacementSettings {
        overrides = List.copyOf(overrides);
        offloadTo = List.copyOf(offloadTo);
        if (nCpuMoe < 0) throw new IllegalArgumentException("--n-cpu-moe must be >= 0, not " + nCpuMoe);
        if (gpuLayers < 0) throw new IllegalArgumentException("-ngl must be >= 0, not " + gpuLayers);
    }

    public PlacementSettings withOverrides(String... values) {
        return new PlacementSettings(List.of(values), cpuMoe, nCpuMoe, gpuLayers, offloadTo, opOffload, kvOffload);
    }

    public PlacementSettings withGpuLayers(int n, String... devices) {
        return new PlacementSettings(overrides, cpuMoe, nCpuMoe, n, List.of(devices), opOffload, kvOffload);
    }

    public PlacementSettings withCpuMoe(boolean all, int firstLayers) {
        return new PlacementSettings(overrides, all, firstLayers, gpuLayers, offloadTo, opOffload, kvOffload);
    }

    public PlacementSettings withOpOffload(boolean on) {
        return new PlacementSettings(overrides, cpuMoe, nCpuMoe, gpuLayers, offloadTo, on, kvOffload);
    }

    public PlacementSettings withKvOffload(boolean on) {
        return new PlacementSettings(overrides, cpuMoe, nCpuMoe, gpuLayers, offloadTo, opOffload, on);
    }
}
