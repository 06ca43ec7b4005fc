package dev.panllama.gpu;

import dev.panllama.backend.AttentionKernel;
import dev.panllama.backend.Kernels;
import dev.panllama.backend.ReferenceKernels;
import dev.panllama.kv.KvCache;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every CUDA op against the CPU reference (the SPI's default methods, {@link ReferenceKernels} for matmul,
 * {@link AttentionKernel#reference}) on random data of odd sizes.
 *
 * <p>Tolerances: the matvec kernels and the element-wise ops compute in float like the reference, only
 * in another order: 1e-4 of Σ|w_j·x_j| (plus 1e-6). cuBLAS batches round weights and activations to F16
 * (each 2^-11 relative), so their bound is 2e-3 of Σ|w_j·x_j|; F32 weights stay F32 there (1e-4).
 */
class CudaKernelsGpuTest {
    private static CudaDevice device;
    private static Kernels cuda;
    private static final Kernels REFERENCE = new ReferenceKernels();
    private static Arena arena;

    @BeforeEach
    void setUp() {
        GpuTests.requireCuda();
        if (device == null) {
            device = GpuTests.firstDevice();
            cuda = device.kernels();
            arena = Arena.ofShared();
        }
    }

    @AfterAll
    static void tearDown() {
        if (device != null) device.close();
        if (arena != null) arena.close();
    }

    static Stream<Arguments> typesAndBatches() {
        return Arrays.stream(GgmlType.values()).filter(TestTensors::canMake)
                .flatMap(t -> Stream.of(1, 3, 8, 9, 33).map(n -> Arguments.of(t, n)));
    }

    @ParameterizedTest(name = "{0} x {1} tokens")
    @MethodSource("typesAndBatches")
    void matmulAgreesWithTheReference(GgmlType type, int tokens) {
        int k = type.blockSize() == 256 ? 768 : 352;
        int rows = 40;                                    // a multiple of 8 for the interleaved types
        Random rnd = new Random(type.ordinal() * 100L + tokens);
        Tensor w = TestTensors.weight(arena, "w." + type + "." + tokens, type, k, rows, rnd);
        assertThat(device.place(w)).isSameAs(w);
        float[] x = TestTensors.gaussian(rnd, tokens * k, 1f);
        x[3] = 9.5f;
        // All rows, then rows [8, 32) as the MoE experts and per-head products ask for them.
        for (int[] range : new int[][]{{0, rows}, {8, 24}}) {
            float[] ref = new float[tokens * range[1]];
            float[] ours = new float[tokens * range[1]];
            REFERENCE.matmul(w, range[0], range[1], x, ref, tokens);
            cuda.matmul(w, range[0], range[1], x, ours, tokens);
            boolean f16Gemm = tokens > CudaKernels.MATVEC_MAX_TOKENS && type != GgmlType.F32;
            float[] wf = w.toFloatArray();
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < range[1]; r++) {
                    double mag = 0;
                    for (int j = 0; j < k; j++) mag += Math.abs(wf[(range[0] + r) * k + j] * x[t * k + j]);
                    double bound = (f16Gemm ? 2e-3 : 1e-4) * mag + 1e-6;
                    assertThat((double) Math.abs(ours[t * range[1] + r] - ref[t * range[1] + r]))
                            .as("%s rows from %d, row %d token %d: ours %f ref %f", type, range[0], r, t, ours[t * range[1] + r], ref[t * range[1] + r])
                            .isLessThanOrEqualTo(bound);
                }
            }
        }
    }

    /** A weight whose F16 copy exceeds the dequantize scratch runs in blocks of rows through cuBLAS. */
    @Test
    void largeWeightsRunInBlocksOfRows() {
        int k = 4096, rows = 40_000, tokens = 9;             // 312 MiB as F16 > 256 MiB
        Random rnd = new Random(1);
        Tensor w = TestTensors.weight(arena, "big", GgmlType.Q4_0, k, rows, rnd);
        assertThat(GemmShape.rowBlocks(rows, k, CudaKernels.DEQUANT_SCRATCH_BYTES)).hasSizeGreaterThan(1);
        device.place(w);
        float[] x = TestTensors.gaussian(rnd, tokens * k, 1f);
        float[] ref = new float[tokens * rows];
        float[] ours = new float[tokens * rows];
        REFERENCE.matmul(w, x, ref, tokens);
        cuda.matmul(w, x, ours, tokens);
        // |sum_j w_j x_j| terms are bounded by max|x| * sum|w_j|: the F16 bound over that.
        double[] maxX = new double[tokens];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < k; j++) maxX[t] = Math.max(maxX[t], Math.abs(x[t * k + j]));
        }
        float[] row = new float[k];
        for (int r = 0; r < rows; r++) {
            w.dequantizeRow(r, row, 0);
            double sumW = 0;
            for (float v : row) sumW += Math.abs(v);
            for (int t = 0; t < tokens; t++) {
                assertThat((double) Math.abs(ours[t * rows + r] - ref[t * rows + r])).as("row %d token %d", r, t)
                        .isLessThanOrEqualTo(2e-3 * maxX[t] * sumW + 1e-5);
            }
        }
    }

    @Test
    void placedWeightsAreCountedAndUnplacedOnesRefused() {
        Random rnd = new Random(2);
        long before = device.weightBytes();
        Tensor nativeType = TestTensors.weight(arena, "native", GgmlType.Q4_K, 256, 16, rnd);
        Tensor converted = TestTensors.weight(arena, "converted", GgmlType.Q5_0, 256, 16, rnd);
        device.place(nativeType);
        device.place(converted);
        device.place(converted);                                   // placing twice uploads once
        assertThat(device.weightBytes() - before).isEqualTo(nativeType.byteSize() + 2L * 256 * 16);
        Tensor stranger = TestTensors.weight(arena, "blk.7.ffn_up.weight", GgmlType.Q8_0, 256, 4, rnd);
        assertThatThrownBy(() -> cuda.matmul(stranger, new float[256], new float[4], 1))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("blk.7.ffn_up.weight").hasMessageContaining("CUDA0");
        assertThat(device.memoryFree()).isPositive().isLessThanOrEqualTo(device.memoryTotal());
    }

    @Test
    void rmsnormWithACachedWeight() {
        Random rnd = new Random(3);
        int tokens = 5, dim = 352;
        float[] weight = TestTensors.gaussian(rnd, dim, 1f);
        for (int round = 0; round < 2; round++) {                 // the second round reuses the device copy of weight
            float[] x = TestTensors.gaussian(rnd, tokens * dim, 2f);
            float[] ref = new float[x.length], ours = new float[x.length];
            REFERENCE.rmsnorm(x, weight, ref, tokens, dim, 1e-5f);
            cuda.rmsnorm(x, weight, ours, tokens, dim, 1e-5f);
            assertClose(ours, ref, 1e-5);
            float[] inPlace = x.clone();
            cuda.rmsnorm(inPlace, weight, inPlace, tokens, dim, 1e-5f);
            assertClose(inPlace, ref, 1e-5);
        }
    }

    @ParameterizedTest(name = "neox {0}, rotating {1} of 64")
    @CsvSource({"false, 64", "true, 64", "true, 32", "false, 16"})
    void rope(boolean neox, int nRot) {
        Random rnd = new Random(4);
        int tokens = 3, heads = 6, headDim = 64;
        float[] x = TestTensors.gaussian(rnd, tokens * heads * headDim, 1f);
        float[] cs = new float[tokens * nRot];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < nRot; i += 2) {
                double a = (t + 7) * Math.pow(10000, -(double) i / nRot);
                cs[t * nRot + i] = (float) Math.cos(a);
                cs[t * nRot + i + 1] = (float) Math.sin(a);
            }
        }
        float[] ref = x.clone(), ours = x.clone();
        REFERENCE.rope(ref, tokens, heads, headDim, nRot, cs, neox);
        cuda.rope(ours, tokens, heads, headDim, nRot, cs, neox);
        assertClose(ours, ref, 1e-5);
    }

    @Test
    void elementwiseOps() {
        Random rnd = new Random(5);
        int n = 10_007;
        float[] a = TestTensors.gaussian(rnd, n + 5, 3f), b = TestTensors.gaussian(rnd, n + 5, 1f);
        float[] ref, ours;

        ref = a.clone(); ours = a.clone();
        REFERENCE.swiglu(ref, b, n);
        cuda.swiglu(ours, b, n);
        assertClose(ours, ref, 1e-5);

        ref = a.clone(); ours = a.clone();
        REFERENCE.add(ref, b, n);
        cuda.add(ours, b, n);
        assertClose(ours, ref, 1e-6);
        assertThat(ours[n]).as("elements past n are untouched").isEqualTo(a[n]);
    }

    /** A prompt, a few generated tokens and a rewind, over every cache type, each step against the reference. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "F32", "BF16", "Q8_0", "Q4_0"})
    void attentionOverACacheOfEachType(GgmlType type) {
        int nHead = 8, nHeadKv = 2, headDim = 64, ctx = 64;
        Random rnd = new Random(type.ordinal());
        try (KvCache cache = new KvCache(2, ctx, nHeadKv * headDim, nHeadKv * headDim, type, GgmlType.F16)) {
            int[][] steps = {{0, 9}, {9, 1}, {10, 1}, {11, 3}, {4, 2}, {6, 1}};
            for (int[] st : steps) {
                for (int layer = 0; layer < 2; layer++) {
                    int pos0 = st[0], tokens = st[1];
                    cache.store(layer, pos0, tokens, TestTensors.gaussian(rnd, tokens * nHeadKv * headDim, 1f),
                            TestTensors.gaussian(rnd, tokens * nHeadKv * headDim, 1f));
                    float[] q = TestTensors.gaussian(rnd, tokens * nHead * headDim, 1f);
                    float[] ref = new float[tokens * nHead * headDim], ours = new float[ref.length];
                    float scale = (float) (1 / Math.sqrt(headDim));
                    AttentionKernel.reference(new AttentionKernel.Job(q, ref, cache, layer, pos0, tokens, nHead, nHeadKv, headDim, headDim, scale));
                    cuda.attention(new AttentionKernel.Job(q, ours, cache, layer, pos0, tokens, nHead, nHeadKv, headDim, headDim, scale));
                    assertClose(ours, ref, 1e-4);
                }
            }
        }
    }

    /** Multi-head latent attention: one kv head whose rows are the keys and whose first 512 values are the values. */
    @Test
    void attentionOverALatentCache() {
        int nHead = 4, latent = 576, values = 512, ctx = 32;
        Random rnd = new Random(9);
        try (KvCache cache = KvCache.latent(1, ctx, latent, values, GgmlType.F16)) {
            for (int[] st : new int[][]{{0, 5}, {5, 1}, {6, 1}}) {
                cache.store(0, st[0], st[1], TestTensors.gaussian(rnd, st[1] * latent, 1f), null);
                float[] q = TestTensors.gaussian(rnd, st[1] * nHead * latent, 0.2f);
                float[] ref = new float[st[1] * nHead * values], ours = new float[ref.length];
                AttentionKernel.reference(new AttentionKernel.Job(q, ref, cache, 0, st[0], st[1], nHead, 1, latent, values, 0.07f));
                cuda.attention(new AttentionKernel.Job(q, ours, cache, 0, st[0], st[1], nHead, 1, latent, values, 0.07f));
                assertClose(ours, ref, 1e-4);
            }
        }
    }

    private static void assertClose(float[] actual, float[] expected, double tol) {
        for (int i = 0; i < expected.length; i++) {
            double bound = tol * Math.max(1, Math.abs(expected[i]));
            assertThat((double) Math.abs(actual[i] - expected[i])).as("index %d: %f vs %f", i, actual[i], expected[i]).isLessThanOrEqualTo(bound);
        }
    }
}
