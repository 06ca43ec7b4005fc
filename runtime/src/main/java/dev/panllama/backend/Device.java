package dev.panllama.backend;

import dev.panllama.graph.Op;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;

/**
 * Somewhere weights can live and operations run, named like llama.cpp's buffer types: {@code CPU},
 * {@code CPU_REF}, {@code CUDA0}. The name is what {@code -ot REGEX=NAME} and {@code -dev} refer to.
 *
 * <p>A host device computes on the mapped weights in place and on activations in Java arrays. Other
 * devices receive their weights through {@link #place} at load.
 */
public interface Device extends AutoCloseable {

    String name();

    /** For {@code --list-devices}: what it is and how it runs, e.g. the CPU model and thread count. */
    String description();

    /** Whether weights stay where they are (mapped) and computation reads host memory directly. */
    boolean isHost();

    /** The operations on this device. */
    Kernels kernels();

    /** Bytes of memory for weights, or -1 when unknown. */
    long memoryTotal();

    /** Bytes free, or -1 when unknown. */
    long memoryFree();

    /** Makes a weight usable on this device: host devices use it in place; others copy it at load. */
    default Tensor place(Tensor weight) {
        if (isHost()) return weight;
        throw new UnsupportedOperationException(name() + " cannot hold weights");
    }

    /**
     * Whether this device keeps the KV cache rows of the layers whose attention it runs in its own memory,
     * for caches of these types; then the host allocates none for them. Host devices use the host's.
     */
    default boolean keepsKvCache(GgmlType keyType, GgmlType valueType) {
        return false;
    }

    /**
     * llama.cpp's offload_op: whether this accelerator wants to run {@code op}, whose weight stays in host
     * memory, streaming the weight to itself (worth it for large batches, where the op's compute outgrows
     * the copy). Its runner must then take weights that were never placed on it.
     */
    default boolean offloadsOp(Op op) {
        return false;
    }

    /**
     * Runs graph splits on this device. The default runs them with {@link #kernels()} over Java arrays
     * this device owns ({@link HostRunner}); a device with memory of its own returns a runner over it.
     */
    default DeviceRunner newRunner() {
        return new HostRunner(this);
    }

    @Override
    default void close() {
        kernels().close();
    }
}
