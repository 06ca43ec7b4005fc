package dev.panllama.cpu;

import dev.panllama.backend.AttentionKernel;
import dev.panllama.backend.Kernels;
import dev.panllama.backend.ReferenceKernels;
import dev.panllama.kv.KvCache;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every fast kernel against the scalar reference ({@link ReferenceKernels}, which decodes rows with the
 * type's codec and dots in float), on random data with odd sizes.
 *
 * <p>Tolerances: for quantized weights the activations are rounded to 8 bits per block as ggml does
 * (its vec_dot_type), so results may differ from the float reference by that rounding: at most half a
 * step per element, |w_j|·amax_block/254, summed — the bound used is twice that. Float kernels may only
 * reassociate the sum: 1e-5 of Σ|w_j·x_j|.
 */
class KernelAgreementTest {
    private static final Random RND = new Random(7);

    static Stream<Arguments> typesAndBatches() {
        return Arrays.stream(GgmlType.values())
                .filter(t -> t.hasCodec() && t.codec().canQuantize() && t != GgmlType.Q8_K && t != GgmlType.Q8_1)
                .filter(t -> t.interleavedRows() == 1)          // row groups: IqkKernelsTest
                .flatMap(t -> Stream.of(1, 3, 17).map(n -> Arguments.of(t, n)));
    }

    @ParameterizedTest(name = "{0} x {1} tokens")
    @MethodSource("typesAndBatches")
    void matmulAgreesWithReference(GgmlType type, int tokens) {
        int k = switch (type.blockSize()) { case 256 -> 768; case 32 -> 352; default -> 173; };  // not powers of two; 173 not even whole vectors
        int rows = 37;
        try (Arena arena = Arena.ofShared(); Kernels cpu = new CpuBackend().createKernels(2)) {
            Tensor w = randomTensor(arena, type, k, rows);
            float[] x = gaussian(tokens * k, 1.0f);
            x[5] = 9.5f;                                     // an outlier, as real activations have
            float[] ref = new float[tokens * rows];
            float[] ours = new float[tokens * rows];
            new ReferenceKernels().matmul(w, x, ref, tokens);
            cpu.matmul(w, x, ours, tokens);
            float[] wf = w.toFloatArray();
            int actBlock = KernelTable.dotFormat(type).blockSize;   // 1: float activations
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    double bound = bound(wf, r * k, x, t * k, k, actBlock);
                    assertThat((double) Math.abs(ours[t * rows + r] - ref[t * rows + r]))
                            .as("%s row %d token %d: ours %f ref %f", type, r, t, ours[t * rows + r], ref[t * rows + r])
                            .isLessThanOrEqualTo(bound);
                }
            }
        }
    }

    static double bound(float[] w, int wo, float[] x, int xo, int k, int actBlock) {
        double l1 = 0;
        double quant = 0;
        for (int j = 0; j < k; j++) l1 += Math.abs(w[wo + j] * x[xo + j]);
        if (actBlock > 1) {
            int blk = actBlock;
            for (int b = 0; b < k; b += blk) {
                double amax = 0;
                for (int j = b; j < b + blk; j++) amax = Math.max(amax, Math.abs(x[xo + j]));
                for (int j = b; j < b + blk; j++) quant += Math.abs(w[wo + j]) * amax / 127.0;
            }
        }
        return 1e-5 * l1 + quant + 1e-6;
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        for (GgmlType type : new GgmlType[]{GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.F16, GgmlType.Q4_K, GgmlType.Q6_K}) {
            for (int tokens : new int[]{1, 20}) {
                try (Arena arena = Arena.ofShared();
                     Kernels one = new CpuBackend().createKernels(1);
                     Kernels three = new CpuBackend().createKernels(3)) {
                    int k = 512;
                    Tensor w = randomTensor(arena, type, k, 301);
                    float[] x = gaussian(tokens * k, 1f);
                    float[] a = new float[tokens * 301];
                    float[] b = new float[tokens * 301];
                    one.matmul(w, x, a, tokens);
                    three.matmul(w, x, b, tokens);
                    assertThat(b).as("%s, %d tokens", type, tokens).containsExactly(a);
                }
            }
        }
    }

    @Test
    void elementwiseOpsAgreeWithReference() {
        Kernels ref = new ReferenceKernels();
        try (Kernels cpu = new CpuBackend().createKernels(2)) {
            int tokens = 3, dim = 83;
            float[] x = gaussian(tokens * dim, 2f);
            float[] w = gaussian(dim, 1f);
            float[] a = new float[x.length], b = new float[x.length];
            ref.rmsnorm(x, w, a, tokens, dim, 1e-5f);
            cpu.rmsnorm(x, w, b, tokens, dim, 1e-5f);
            assertClose(b, a, 1e-5f);

            float[] g1 = gaussian(1001, 3f), u = gaussian(1001, 1f), g2 = g1.clone();
            ref.swiglu(g1, u, 1001);
            cpu.swiglu(g2, u, 1001);
            assertClose(g2, g1, 1e-5f);

            float[] s1 = gaussian(1001, 1f), s2 = s1.clone(), y = gaussian(1001, 1f);
            ref.add(s1, y, 1001);
            cpu.add(s2, y, 1001);
            assertThat(s2).containsExactly(s1);
        }
    }

    @ParameterizedTest
    @MethodSource("cacheTypes")
    void attentionAgreesWithReference(GgmlType cacheType) {
        int nHead = 6, nHeadKv = 2, dk = 64, dv = 64, layers = 2, ctx = 40;
        try (KvCache cache = new KvCache(layers, ctx, nHeadKv * dk, nHeadKv * dv, cacheType, cacheType);
             Kernels cpu = new CpuBackend().createKernels(2)) {
            int pos0 = 0;
            for (int tokens : new int[]{5, 1, 9}) {          // a prompt batch, one step, another batch
                float[] k = gaussian(tokens * nHeadKv * dk, 1f);
                float[] v = gaussian(tokens * nHeadKv * dv, 1f);
                cache.store(1, pos0, tokens, k, v);
                float[] q = gaussian(tokens * nHead * dk, 1f);
                float[] a = new float[tokens * nHead * dv], b = new float[a.length];
                AttentionKernel.reference(new AttentionKernel.Job(q, a, cache, 1, pos0, tokens, nHead, nHeadKv, dk, dv, 0.125f));
                cpu.attention(new AttentionKernel.Job(q, b, cache, 1, pos0, tokens, nHead, nHeadKv, dk, dv, 0.125f));
                assertClose(b, a, 1e-5f);
                pos0 += tokens;
            }
        }
    }

    static Stream<GgmlType> cacheTypes() {
        return Stream.of(GgmlType.F16, GgmlType.Q8_0, GgmlType.F32);
    }

    private static void assertClose(float[] actual, float[] expected, float rel) {
        for (int i = 0; i < expected.length; i++) {
            float tol = rel * Math.max(1f, Math.abs(expected[i]));
            assertThat(actual[i]).as("index %d", i).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(tol));
        }
    }

    static float[] gaussian(int n, float std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) RND.nextGaussian() * std;
        return x;
    }

    /** A rows x k tensor of the type, made by quantizing Gaussian floats with the type's codec. */
    static Tensor randomTensor(Arena arena, GgmlType type, int k, int rows) {
        long rowBytes = type.rowBytes(k);
        MemorySegment data = arena.allocate(rowBytes * rows, 64);
        float[] row = new float[k];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < k; j++) row[j] = (float) RND.nextGaussian() * 0.05f;
            type.codec().quantize(row, 0, data, r * rowBytes, k);
        }
        return new Tensor("w", type, new long[]{k, rows}, data);
    }
}
