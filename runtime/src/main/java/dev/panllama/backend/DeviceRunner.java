package dev.panllama.backend;

import dev.panllama.graph.Node;
import dev.panllama.graph.Slot;

/**
 * Runs the nodes of a graph split on one device, over buffers that device owns. The scheduler gives it
 * the nodes in order and the buffers of their values; it may queue work (a GPU stream) and must have
 * finished everything queued when {@link #synchronize} returns. Only a copy to a host buffer and the
 * graph's output need the host to wait.
 */
public interface DeviceRunner {

    /** A buffer of {@code capacity} floats (or ints) on this device for values of {@code slot}. */
    Buffer allocate(Slot slot, int capacity, boolean ints);

    /**
     * Copies {@code length} elements between a buffer of this device and one of another (or of this one).
     * The scheduler asks the runner of the non-host side when one side is not host memory.
     */
    void copy(Buffer src, Buffer dst, int length);

    /** Runs one node: {@code in[i]} holds {@code node.input(i)}, {@code out[i]} receives {@code node.output(i)}. */
    void run(Node node, Buffer[] in, Buffer[] out);

    /** Waits until everything queued has run. */
    default void synchronize() {}

    /** Frees the buffers it allocated, where that means anything (host arrays go with the garbage collector). */
    default void release(Buffer b) {}
}
