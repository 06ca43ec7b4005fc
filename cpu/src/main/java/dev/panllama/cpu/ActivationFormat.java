package dev.panllama.cpu;

/**
 * What a weight type's dot product consumes (ggml's vec_dot_type): floats, or the activations
 * quantized to 8 bits per 32-block (Q8_0, for the legacy and IQ4_NL types) or per 256-block with
 * sums per 16 (Q8_K, for the K-quants and IQ4_XS). Quantizing once per token and taking integer dot
 * products against every weight row is what makes quantized matrix-vector products fast.
 */
enum ActivationFormat {
    F32(1), Q8_0(32), Q8_K(256);

    final int blockSize;

    ActivationFormat(int blockSize) {
        this.blockSize = blockSize;
    }
}
