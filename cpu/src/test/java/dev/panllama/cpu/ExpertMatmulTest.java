package dev.panllama.cpu;

import dev.panllama.backend.Kernels;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * CpuKernels.matmulExperts (ggml's mul_mat_id: one parallel loop for the experts with few inputs, the
 * batched path for the others) against the SPI's default, which runs one matmul per expert on the same
 * kernels. Both round the activations the same way (per vector and block), so results must be equal to
 * the bit; the routing mixes experts with one input, a few, and more than the batched path's threshold.
 */
class ExpertMatmulTest {

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = GgmlType.class, names = {"F32", "Q8_0", "Q4_0", "Q4_K", "Q6_K", "IQ4_XS"})
    void agreesWithOneMatmulPerExpert(GgmlType type) {
        int experts = 6, rows = 40, k = 512, inputs = 30;
        Random rnd = new Random(11);
        // Expert 0 gets 20 pairs (batched path), 1 none, 2 one, the others a few each.
        int[] expert = new int[60];
        int[] input = new int[60];
        int pairs = 0;
        for (int i = 0; i < 20; i++, pairs++) expert[pairs] = 0;
        expert[pairs++] = 2;
        for (int i = 0; i < 39; i++, pairs++) expert[pairs] = 3 + rnd.nextInt(3);
        for (int p = 0; p < pairs; p++) input[p] = rnd.nextInt(inputs);
        try (Arena arena = Arena.ofShared(); Kernels cpu = new CpuBackend().createKernels(2)) {
            Tensor w = KernelAgreementTest.randomTensor(arena, type, k, experts * rows);
            float[] x = KernelAgreementTest.gaussian(inputs * k, 1f);
            float[] ours = new float[pairs * rows];
            float[] perExpert = new float[pairs * rows];
            cpu.matmulExperts(w, rows, expert, input, pairs, x, inputs, ours);
            onlyMatmul(cpu).matmulExperts(w, rows, expert, input, pairs, x, inputs, perExpert);
            assertThat(ours).containsExactly(perExpert);
            float[] one = new float[rows];
            float[] row = new float[k];
            int p = 20;                                  // expert 2's single pair: a plain one-token product
            System.arraycopy(x, input[p] * k, row, 0, k);
            cpu.matmul(w, 2L * rows, rows, row, one, 1);
            for (int r = 0; r < rows; r++) assertThat(ours[p * rows + r]).isEqualTo(one[r]);
        }
    }

    @Test
    void rejectsAnExpertOrInputOutOfRange() {
        try (Arena arena = Arena.ofShared(); Kernels cpu = new CpuBackend().createKernels(1)) {
            Tensor w = KernelAgreementTest.randomTensor(arena, GgmlType.Q8_0, 64, 8);
            float[] x = new float[2 * 64];
            float[] y = new float[4 * 4];
            assertThatThrownBy(() -> cpu.matmulExperts(w, 4, new int[]{0, 2}, new int[]{0, 1}, 2, x, 2, y))
                    .hasMessageContaining("expert 2 of pair 1 outside [0, 2)");
            assertThatThrownBy(() -> cpu.matmulExperts(w, 4, new int[]{0, 1}, new int[]{0, 2}, 2, x, 2, y))
                    .hasMessageContaining("input 2 of pair 1 outside [0, 2)");
        }
    }

    /** The CPU kernels seen through the SPI's default matmulExperts. */
    private static Kernels onlyMatmul(Kernels k) {
        return new Kernels() {
            @Override
            public String description() { return k.description(); }

            @Override
            public int threads() { return k.threads(); }

            @Override
            public void matmul(Tensor w, long rowStart, int rowCount, float[] x, float[] y, int tokens) {
                k.matmul(w, rowStart, rowCount, x, y, tokens);
            }
        };
    }
}
