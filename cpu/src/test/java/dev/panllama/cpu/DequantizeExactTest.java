package dev.panllama.cpu;

import dev.panllama.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every dedicated kernel's vectorized dequantize equals the scalar codec bit for bit: both evaluate
 * the same expression, so there is no tolerance. Blocks are random bytes, so every level, scale and
 * high-bit pattern occurs; only the float fields (d, dmin, m) are replaced by random finite values, so
 * the comparison is about the decoding and not about NaN payloads.
 */
class DequantizeExactTest {
    /** Byte offsets of each block's f16 fields (ggml-common.h); Q8_K's d is an f32 at 0. */
    private static final Map<GgmlType, int[]> HALF_FIELDS = Map.ofEntries(
            Map.entry(GgmlType.Q4_0, new int[]{0}), Map.entry(GgmlType.Q4_1, new int[]{0, 2}),
            Map.entry(GgmlType.Q5_0, new int[]{0}), Map.entry(GgmlType.Q5_1, new int[]{0, 2}),
            Map.entry(GgmlType.Q8_0, new int[]{0}), Map.entry(GgmlType.Q8_1, new int[]{0, 2}),
            Map.entry(GgmlType.IQ4_NL, new int[]{0}), Map.entry(GgmlType.Q2_K, new int[]{80, 82}),
            Map.entry(GgmlType.Q3_K, new int[]{108}), Map.entry(GgmlType.Q4_K, new int[]{0, 2}),
            Map.entry(GgmlType.Q5_K, new int[]{0, 2}), Map.entry(GgmlType.Q6_K, new int[]{208}),
            Map.entry(GgmlType.IQ4_XS, new int[]{0}), Map.entry(GgmlType.Q8_K, new int[]{}));

    /** ggml's block-quantized types; ik_llama.cpp's (row scales, interleaved rows) are IqkKernelsTest's. */
    static Stream<GgmlType> quantizedDedicatedTypes() {
        return Arrays.stream(GgmlType.values()).filter(KernelTable::isDedicated).filter(t -> t.blockSize() > 1)
                .filter(t -> !IqkKernelsTest.TYPES.contains(t));
    }

    @ParameterizedTest
    @MethodSource("quantizedDedicatedTypes")
    void dequantizeEqualsTheCodec(GgmlType type) {
        Random rnd = new Random(type.ordinal());
        int blocks = 13;
        int k = blocks * type.blockSize();
        int rowOffset = 3 * type.typeSize();       // not the segment's start
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(rowOffset + (long) blocks * type.typeSize());
            for (long i = 0; i < data.byteSize(); i++) data.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
            for (int b = 0; b < blocks + 3; b++) {
                long block = (long) b * type.typeSize();
                for (int field : HALF_FIELDS.get(type)) {
                    data.set(VecMath.I16, block + field, Float.floatToFloat16((float) rnd.nextGaussian() * 0.01f));
                }
                if (type == GgmlType.Q8_K) data.set(VecMath.F32, block, (float) rnd.nextGaussian() * 0.01f);
            }
            float[] expected = new float[k + 5];
            float[] actual = new float[k + 5];
            type.codec().dequantize(data, rowOffset, expected, 5, k);
            KernelTable.dedicated(type).dequantize(data, rowOffset, actual, 5, k);
            for (int i = 0; i < expected.length; i++) {
                assertThat(Float.floatToRawIntBits(actual[i]))
                        .as("%s element %d: ours %s, codec %s", type, i - 5, actual[i], expected[i])
                        .isEqualTo(Float.floatToRawIntBits(expected[i]));
            }
        }
    }

    @Test
    void everyCodecTypeWithAnActivationFormatHasADedicatedKernel() {
        for (GgmlType type : HALF_FIELDS.keySet()) {
            assertThat(KernelTable.isDedicated(type)).as("%s", type).isTrue();
        }
    }
}
