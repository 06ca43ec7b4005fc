package dev.panllama.backend;

/** Activations in a Java array of the device that allocated it: floats, or ints for expert ids. */
public record HostBuffer(Device device, float[] floats, int[] ints) implements Buffer {

    static HostBuffer of(Device device, int capacity, boolean ints) {
        return ints ? new HostBuffer(device, null, new int[capacity]) : new HostBuffer(device, new float[capacity], null);
    }

    @Override
    public int capacity() { return floats != null ? floats.length : ints.length; }
}
