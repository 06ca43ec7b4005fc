package dev.panllama.cpu;

import dev.panllama.backend.Kernels;
import dev.panllama.backend.ReferenceKernels;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The kernels of ik_llama.cpp's types against their scalar codecs, on tensors of random bytes (every
 * level, scale, grid-half and sign bit occurs; only the float fields get random finite values) with
 * odd sizes: matrix products against {@link ReferenceKernels} within {@link KernelAgreementTest}'s
 * bound (8-bit activation rounding), the vectorized dequantizers bit for bit, and results independent
 * of the thread count. Most of these types have no quantizer, which is why the data are random bytes.
 */
class IqkKernelsTest {
    static final List<GgmlType> TYPES = List.of(GgmlType.IQ2_K, GgmlType.IQ3_K, GgmlType.IQ4_K, GgmlType.IQ5_K, GgmlType.IQ6_K,
            GgmlType.IQ2_KS, GgmlType.IQ4_KS, GgmlType.IQ4_KSS, GgmlType.IQ2_K_R4, GgmlType.IQ3_K_R4, GgmlType.IQ4_K_R4,
            GgmlType.Q4_0_R8, GgmlType.Q8_0_R8);

    /** Per type: the float fields, as {row metadata f16 or f32 or none, byte offsets of f16 fields in each stored block}. */
    private static final Map<GgmlType, int[]> HALF_FIELDS = Map.ofEntries(
            Map.entry(GgmlType.IQ2_K, new int[]{0}), Map.entry(GgmlType.IQ3_K, new int[]{0}),
            Map.entry(GgmlType.IQ4_K, new int[]{0}), Map.entry(GgmlType.IQ5_K, new int[]{0}),
            Map.entry(GgmlType.IQ6_K, new int[]{0}), Map.entry(GgmlType.IQ2_KS, new int[]{}),
            Map.entry(GgmlType.IQ4_KS, new int[]{}), Map.entry(GgmlType.IQ4_KSS, new int[]{}),
            Map.entry(GgmlType.IQ2_K_R4, new int[]{0, 2, 4, 6}), Map.entry(GgmlType.IQ3_K_R4, new int[]{0, 2, 4, 6}),
            Map.entry(GgmlType.IQ4_K_R4, new int[]{0, 2, 4, 6}),
            Map.entry(GgmlType.Q4_0_R8, new int[]{0, 2, 4, 6, 8, 10, 12, 14}),
            Map.entry(GgmlType.Q8_0_R8, new int[]{0, 2, 4, 6, 8, 10, 12, 14}));

    static Stream<Arguments> typesAndBatches() {
        return TYPES.stream().flatMap(t -> Stream.of(1, 3, 17).map(n -> Arguments.of(t, n)));
    }

    @ParameterizedTest(name = "{0} x {1} tokens")
    @MethodSource("typesAndBatches")
    void matmulAgreesWithReference(GgmlType type, int tokens) {
        int k = type.blockSize() == 256 ? 768 : 352;      // not powers of two
        int rows = 40;                                      // five groups of 8, ten of 4
        Random rnd = new Random(type.ordinal() * 31L + tokens);
        try (Arena arena = Arena.ofShared(); Kernels cpu = new CpuBackend().createKernels(2)) {
            Tensor w = randomTensor(arena, type, k, rows, rnd);
            float[] x = KernelAgreementTest.gaussian(tokens * k, 1.0f);
            x[5] = 9.5f;
            float[] ref = new float[tokens * rows];
            float[] ours = new float[tokens * rows];
            new ReferenceKernels().matmul(w, x, ref, tokens);
            cpu.matmul(w, x, ours, tokens);
            float[] wf = w.toFloatArray();
            int actBlock = KernelTable.dotFormat(type).blockSize;
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    double bound = KernelAgreementTest.bound(wf, r * k, x, t * k, k, actBlock);
                    assertThat((double) Math.abs(ours[t * rows + r] - ref[t * rows + r]))
                            .as("%s row %d token %d: ours %f ref %f", type, r, t, ours[t * rows + r], ref[t * rows + r])
                            .isLessThanOrEqualTo(bound);
                }
            }
            // A slice of rows, as the MoE experts take: whole groups from a group boundary.
            int unit = type.interleavedRows();
            float[] slice = new float[tokens * 2 * unit];
            cpu.matmul(w, 2L * unit, 2 * unit, x, slice, tokens);
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < 2 * unit; r++) {
                    assertThat(slice[t * 2 * unit + r]).as("%s slice row %d token %d", type, r, t).isEqualTo(ours[t * rows + 2 * unit + r]);
                }
            }
        }
    }

    static Stream<GgmlType> types() {
        return TYPES.stream();
    }

    @ParameterizedTest
    @MethodSource("types")
    void dequantizeEqualsTheCodec(GgmlType type) {
        int k = 13 * type.blockSize();
        int unit = type.interleavedRows();
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = randomTensor(arena, type, k, 3 * unit, new Random(type.ordinal()));
            assertThat(KernelTable.isDedicated(type)).as("%s has a dedicated kernel", type).isTrue();
            WeightKernel kernel = KernelTable.dedicated(type);
            assertThat(kernel.rows()).isEqualTo(unit);
            float[] actual = new float[5 + unit * k];
            float[] expected = new float[k];
            long unitOffset = unit * w.rowBytes();          // the second unit: not the segment's start
            kernel.dequantize(w.data(), unitOffset, actual, 5, k);
            for (int r = 0; r < unit; r++) {
                w.dequantizeRow(unit + r, expected, 0);
                for (int i = 0; i < k; i++) {
                    assertThat(Float.floatToRawIntBits(actual[5 + r * k + i]))
                            .as("%s row %d element %d: ours %s, codec %s", type, r, i, actual[5 + r * k + i], expected[i])
                            .isEqualTo(Float.floatToRawIntBits(expected[i]));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("types")
    void resultsDoNotDependOnTheThreadCount(GgmlType type) {
        int k = 4 * type.blockSize() * (type.blockSize() == 256 ? 1 : 8);
        for (int tokens : new int[]{1, 20}) {
            try (Arena arena = Arena.ofShared();
                 Kernels one = new CpuBackend().createKernels(1);
                 Kernels three = new CpuBackend().createKernels(3)) {
                Tensor w = randomTensor(arena, type, k, 296, new Random(tokens));
                float[] x = KernelAgreementTest.gaussian(tokens * k, 1f);
                float[] a = new float[tokens * 296];
                float[] b = new float[tokens * 296];
                one.matmul(w, x, a, tokens);
                three.matmul(w, x, b, tokens);
                assertThat(b).as("%s, %d tokens", type, tokens).containsExactly(a);
            }
        }
    }

    /** Random bytes with every float field (row scales, block scales) a small random finite value. */
    static Tensor randomTensor(Arena arena, GgmlType type, int k, int rows, Random rnd) {
        long rowBytes = type.rowBytes(k);
        MemorySegment data = arena.allocate(rowBytes * rows, 64);
        for (long i = 0; i < data.byteSize(); i++) data.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
        int unit = type.interleavedRows();
        long storedBlock = (long) unit * type.typeSize();
        for (long r = 0; r < rows; r += unit) {
            long start = r * rowBytes;
            if (type.rowMetaSize() == 4) data.set(VecMath.F32, start, (float) rnd.nextGaussian() * 0.01f);
            if (type.rowMetaSize() == 2) data.set(VecMath.I16, start, Float.floatToFloat16((float) rnd.nextGaussian() * 0.01f));
            for (long b = start + type.rowMetaSize(); b < start + unit * rowBytes; b += storedBlock) {
                for (int field : HALF_FIELDS.get(type)) {
                    data.set(VecMath.I16, b + field, Float.floatToFloat16((float) rnd.nextGaussian() * 0.01f));
                }
            }
        }
        return new Tensor("w", type, new long[]{k, rows}, data);
    }
}
