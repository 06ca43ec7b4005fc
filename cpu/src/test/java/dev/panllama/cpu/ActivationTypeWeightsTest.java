package dev.panllama.cpu;

import dev.panllama.tensor.GgmlType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Q8_1 and Q8_K are ggml's activation formats, never weights in model files, so
 * {@link KernelAgreementTest} leaves them out of its sweep; their dedicated kernels still serve any
 * tensor of those types and must agree with the reference under the same bound.
 */
class ActivationTypeWeightsTest {

    @ParameterizedTest(name = "{0} x {1} tokens")
    @CsvSource({"Q8_1, 1", "Q8_1, 3", "Q8_1, 17", "Q8_K, 1", "Q8_K, 3", "Q8_K, 17"})
    void matmulAgreesWithReference(GgmlType type, int tokens) {
        new KernelAgreementTest().matmulAgreesWithReference(type, tokens);
    }
}
