package dev.panllama.backend;

import dev.panllama.util.NativeMemory;

/** A device that computes in host memory with the given kernels. */
public record HostDevice(String name, String description, Kernels kernels) implements Device {

    @Override
    public boolean isHost() { return true; }

    @Override
    public long memoryTotal() { return NativeMemory.physicalMemory(); }

    @Override
    public long memoryFree() { return -1; }
}
