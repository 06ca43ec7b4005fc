package dev.panllama.cpu;

import dev.panllama.backend.AttentionKernel;
import dev.panllama.backend.Kernels;
import dev.panllama.backend.ReferenceKernels;
import dev.panllama.kv.KvCache;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;

import static dev.panllama.cpu.KernelAgreementTest.gaussian;
import static dev.panllama.cpu.KernelAgreementTest.randomTensor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The kernels multi-head latent attention adds or uses differently: per-head products (the absorbed
 * query and the value up-projection) and attention over a latent cache whose values are the leading
 * part of the key rows.
 */
class LatentAttentionKernelsTest {

    /**
     * The CPU's single-loop per-head product against one matmul per head on the same kernels: the
     * activations are rounded identically (per token and head), so only the summation order differs
     * (tolerance 1e-5 of Σ|w·x|). 17 tokens take the batched path.
     */
    @ParameterizedTest(name = "{0} x {1} tokens")
    @CsvSource({"Q4_0, 1", "Q4_0, 3", "Q8_0, 1", "F16, 2", "F32, 1", "Q4_K, 1", "Q5_0, 2", "Q8_0, 17"})
    void perHeadProductsMatchOneMatmulPerHead(GgmlType type, int tokens) {
        int heads = 5, rows = 7, stride = 9, offset = 2;          // attn_kv_b's value rows: an offset and a stride
        int k = type.blockSize() == 256 ? 256 : 64;
        try (Arena arena = Arena.ofShared(); Kernels cpu = new CpuBackend().createKernels(2)) {
            Tensor w = randomTensor(arena, type, k, offset + heads * stride);
            float[] x = gaussian(tokens * heads * k, 1f);
            float[] ours = new float[tokens * heads * rows];
            cpu.matmulHeads(w, offset, stride, rows, heads, x, ours, tokens);
            float[] wf = w.toFloatArray();
            float[] xh = new float[tokens * k], yh = new float[tokens * rows];
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < tokens; t++) System.arraycopy(x, (t * heads + h) * k, xh, t * k, k);
                cpu.matmul(w, offset + (long) h * stride, rows, xh, yh, tokens);
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < rows; r++) {
                        double l1 = 0;
                        int wo = (offset + h * stride + r) * k;
                        for (int j = 0; j < k; j++) l1 += Math.abs(wf[wo + j] * xh[t * k + j]);
                        assertThat((double) ours[(t * heads + h) * rows + r]).as("head %d row %d token %d", h, r, t)
                                .isCloseTo(yh[t * rows + r], within(1e-5 * l1 + 1e-6));
                    }
                }
            }
        }
    }

    @Test
    void perHeadProductsCheckTheirRows() {
        try (Arena arena = Arena.ofShared(); Kernels cpu = new CpuBackend().createKernels(1)) {
            Tensor w = randomTensor(arena, GgmlType.Q8_0, 32, 10);
            assertThatThrownBy(() -> cpu.matmulHeads(w, 0, 5, 6, 2, new float[64], new float[12], 1))
                    .hasMessageContaining("outside");
        }
    }

    /** The CPU attention reads a latent cache's values from its key rows, as the reference does. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "Q8_0", "F32"})
    void attentionOverALatentCacheAgreesWithReference(GgmlType type) {
        int heads = 40, latent = 64, rope = 32, row = latent + rope, layers = 2, ctx = 30;   // one token: the group is split
        try (KvCache cache = KvCache.latent(layers, ctx, row, latent, type);
             Kernels cpu = new CpuBackend().createKernels(2)) {
            assertThat(cache.byteSize()).isEqualTo(type.rowBytes(row) * layers * ctx);
            int pos0 = 0;
            for (int tokens : new int[]{6, 1, 4}) {
                cache.store(1, pos0, tokens, gaussian(tokens * row, 1f), null);
                float[] q = gaussian(tokens * heads * row, 1f);
                float[] a = new float[tokens * heads * latent], b = new float[a.length];
                AttentionKernel.reference(new AttentionKernel.Job(q, a, cache, 1, pos0, tokens, heads, 1, row, latent, 0.1f));
                cpu.attention(new AttentionKernel.Job(q, b, cache, 1, pos0, tokens, heads, 1, row, latent, 0.1f));
                for (int i = 0; i < a.length; i++) assertThat(b[i]).as("index %d", i).isCloseTo(a[i], within(1e-5f * Math.max(1f, Math.abs(a[i]))));
                pos0 += tokens;
            }
            float[] keys = new float[row], values = new float[latent];
            type.codec().dequantize(cache.keyRow(1, 3), 0, keys, 0, row);
            type.codec().dequantize(cache.valueRow(1, 3), 0, values, 0, latent);
            assertThat(values).containsExactly(java.util.Arrays.copyOf(keys, latent));
        }
    }

    @Test
    void referenceKernelsDefinePerHeadProducts() {
        try (Arena arena = Arena.ofShared()) {
            Tensor w = randomTensor(arena, GgmlType.F32, 8, 6);
            float[] x = gaussian(2 * 3 * 8, 1f);
            float[] y = new float[2 * 3 * 2];
            new ReferenceKernels().matmulHeads(w, 0, 2, 2, 3, x, y, 2);
            float[] wf = w.toFloatArray();
            for (int t = 0; t < 2; t++) {
                for (int h = 0; h < 3; h++) {
                    for (int r = 0; r < 2; r++) {
                        double s = 0;
                        for (int j = 0; j < 8; j++) s += wf[(h * 2 + r) * 8 + j] * x[(t * 3 + h) * 8 + j];
                        assertThat((double) y[(t * 3 + h) * 2 + r]).isCloseTo(s, within(1e-5));
                    }
                }
            }
        }
    }
}
