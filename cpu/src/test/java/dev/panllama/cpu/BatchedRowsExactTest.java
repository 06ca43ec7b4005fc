package dev.panllama.cpu;

import dev.panllama.backend.Kernels;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.stream.Stream;

import static dev.panllama.cpu.KernelAgreementTest.gaussian;
import static dev.panllama.cpu.KernelAgreementTest.randomTensor;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What continuous batching relies on: under {@link CpuKernels#BATCH_PATH_MIN_TOKENS} tokens a matrix
 * product gives each token exactly (bit for bit) what it gives that token alone, whatever the other
 * tokens are, so a sequence's logits do not depend on what shares its pass. Every row kernel type, 1 to
 * 15 tokens (the multi-token kernels' tiles and their remainders), an odd and an even block count.
 */
class BatchedRowsExactTest {
    static Stream<Arguments> types() {
        return Arrays.stream(GgmlType.values())
                .filter(t -> t.hasCodec() && t.codec().canQuantize() && t != GgmlType.Q8_K && t != GgmlType.Q8_1)
                .filter(t -> t.interleavedRows() == 1)
                .flatMap(t -> Stream.of(t.blockSize() == 32 ? 352 : 768, t.blockSize() == 32 ? 384 : 1024).map(k -> Arguments.of(t, k)));
    }

    @ParameterizedTest(name = "{0}, k = {1}")
    @MethodSource("types")
    void eachTokenGetsWhatItGetsAlone(GgmlType type, int k) {
        int rows = 24;
        try (Arena arena = Arena.ofShared(); Kernels cpu = new CpuBackend().createKernels(2)) {
            Tensor w = randomTensor(arena, type, k, rows);
            int max = CpuKernels.BATCH_PATH_MIN_TOKENS - 1;
            float[] x = gaussian(max * k, 1.0f);
            float[][] alone = new float[max][rows];
            for (int t = 0; t < max; t++) cpu.matmul(w, Arrays.copyOfRange(x, t * k, (t + 1) * k), alone[t], 1);
            for (int n = 2; n <= max; n++) {
                float[] y = new float[n * rows];
                cpu.matmul(w, Arrays.copyOf(x, n * k), y, n);
                for (int t = 0; t < n; t++) {
                    assertThat(Arrays.copyOfRange(y, t * rows, (t + 1) * rows)).as("%s: token %d of %d", type, t, n).containsExactly(alone[t]);
                }
            }
        }
    }
}
