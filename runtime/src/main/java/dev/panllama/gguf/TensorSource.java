package dev.panllama.gguf;

import dev.panllama.tensor.Tensor;

import java.util.List;
import java.util.Optional;

/**
 * What a model loads from: GGUF metadata and tensors by llama.cpp's names. A {@link MappedGguf} is one,
 * its tensors slices of the mapped file; a source converted at load time (an FP8 checkpoint) holds
 * tensors in memory it owns. Closing the source releases the tensors' memory.
 */
public interface TensorSource extends AutoCloseable {

    /** What the source was opened from, for messages (a file or directory name). */
    String displayName();

    GgufMetadata metadata();

    /** All tensors, in the source's order. */
    List<Tensor> tensors();

    Optional<Tensor> findTensor(String name);

    default boolean hasTensor(String name) {
        return findTensor(name).isPresent();
    }

    default Tensor tensor(String name) {
        return findTensor(name).orElseThrow(() -> new IllegalArgumentException(displayName() + ": no tensor named '" + name + "'"));
    }

    @Override
    void close();
}
