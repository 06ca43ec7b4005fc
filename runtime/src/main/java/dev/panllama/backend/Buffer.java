package dev.panllama.backend;

/**
 * Memory for activations owned by one device (ggml's backend buffer): host arrays for host devices,
 * device memory for an accelerator. A runner reads and writes only its own device's buffers; values
 * reach another device by an explicit {@link DeviceRunner#copy}.
 */
public interface Buffer {
    Device device();

    /** Elements (floats or ints) it can hold. */
    int capacity();
}
