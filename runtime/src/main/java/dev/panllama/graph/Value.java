package dev.panllama.graph;

/**
 * An activation of the graph: {@code length} floats (or ints, for expert ids) that one node writes and
 * later nodes read. Values are written once; the buffer holding one is its {@link Slot} on the device
 * that computed it, or a copy of it on another device.
 *
 * @param name for splits and errors, e.g. {@code blk.3.attn_out}
 */
public record Value(int id, String name, Slot slot, int length, boolean ints) {
    public long bytes() { return 4L * length; }

    @Override
    public String toString() { return name; }
}
