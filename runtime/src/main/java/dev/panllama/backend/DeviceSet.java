package dev.panllama.backend;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The devices available to a model, by name, found through ServiceLoader, plus the backends that are
 * present but cannot run here (with the reason, for {@code --list-devices}). {@code CPU} is the host
 * device everything not placed elsewhere uses; without the cpu module it is the scalar reference.
 */
public final class DeviceSet implements AutoCloseable {
    public static final String CPU = "CPU";

    private final Map<String, Device> devices;
    private final Map<String, String> unavailable;

    private DeviceSet(Map<String, Device> devices, Map<String, String> unavailable) {
        this.devices = devices;
        this.unavailable = unavailable;
    }

    /** Discovers every backend on the class path; CPU threads = {@code threads} (≤ 0: all cores). */
    public static DeviceSet discover(int threads) {
        return discover(threads, threads);
    }

    /** As {@link #discover(int)}, with {@code batchThreads} CPU threads for prompt batches (llama.cpp's -tb). */
    public static DeviceSet discover(int threads, int batchThreads) {
        Map<String, Device> devices = new LinkedHashMap<>();
        Map<String, String> unavailable = new LinkedHashMap<>();
        List<ComputeBackend> backends = new ArrayList<>();
        ServiceLoader.load(ComputeBackend.class).forEach(backends::add);
        for (ComputeBackend b : backends) {
            if (!b.isAvailable()) {
                unavailable.put(b.name(), b.unavailableReason());
                continue;
            }
            for (Device d : b.devices(threads, batchThreads)) devices.putIfAbsent(d.name(), d);
        }
        Map<String, Device> ordered = new LinkedHashMap<>();
        ordered.put(CPU, devices.containsKey(CPU) ? devices.get(CPU)
                : new HostDevice(CPU, "scalar reference kernels (no cpu module on the class path)", new ReferenceKernels()));
        ordered.putAll(devices);
        return new DeviceSet(ordered, unavailable);
    }

    public Device cpu() { return devices.get(CPU); }

    public Device get(String name) {
        Device d = devices.get(name);
        if (d == null) {
            throw new IllegalArgumentException("unknown buffer type '" + name + "' (available: " + String.join(", ", devices.keySet()) + ")");
        }
        return d;
    }

    public boolean contains(String name) { return devices.containsKey(name); }

    public List<String> names() { return List.copyOf(devices.keySet()); }

    public List<Device> all() { return List.copyOf(devices.values()); }

    /** Devices that are not host devices (accelerators), in discovery order: where -ngl offloads by default. */
    public List<Device> accelerators() {
        return devices.values().stream().filter(d -> !d.isHost()).toList();
    }

    /** Backends present but unable to run here, with why. */
    public Map<String, String> unavailable() { return Collections.unmodifiableMap(unavailable); }

    @Override
    public void close() {
        for (Device d : devices.values()) d.close();
    }
}
