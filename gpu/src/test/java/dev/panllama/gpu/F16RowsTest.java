package dev.panllama.gpu;

import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The bytes a weight of a type without kernels has on the device: each row decoded by its codec, rounded to F16. */
class F16RowsTest {
    private static final ValueLayout.OfShort LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q5_0", "Q4_1", "IQ4_NL", "Q4_0_R8", "IQ4_K_R4", "Q8_0_R8"})
    void rowsAreTheCodecsValuesRoundedToF16(GgmlType type) {
        int k = 256, rows = 16;
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = TestTensors.weight(arena, "w", type, k, rows, new Random(type.ordinal()));
            F16Rows f16 = new F16Rows(w);
            assertThat(f16.rowBytes()).isEqualTo(2L * k);
            assertThat(f16.byteSize()).isEqualTo(2L * k * rows);
            MemorySegment out = arena.allocate(f16.byteSize());
            f16.convert(0, rows, out, 0);
            float[] row = new float[k];
            int nonZero = 0;
            for (int r = 0; r < rows; r++) {
                w.dequantizeRow(r, row, 0);
                for (int j = 0; j < k; j++) {
                    short h = out.get(LE, 2L * (r * k + j));
                    assertThat(h).as("%s row %d col %d", type, r, j).isEqualTo(Float.floatToFloat16(row[j]));
                    if (row[j] != 0) nonZero++;
                }
            }
            assertThat(nonZero).isGreaterThan(rows * k / 2);
        }
    }

    @Test
    void aRangeOfRowsLandsAtTheOffsetGiven() {
        int k = 64, rows = 24;
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = TestTensors.weight(arena, "w", GgmlType.Q4_0_R8, k, rows, new Random(5));
            F16Rows f16 = new F16Rows(w);
            MemorySegment whole = arena.allocate(f16.byteSize());
            f16.convert(0, rows, whole, 0);
            MemorySegment part = arena.allocate(f16.byteSize() + 6);
            f16.convert(9, 10, part, 6);            // rows 9..18 span parts of three interleaved groups
            assertThat(part.asSlice(6, 10 * f16.rowBytes()).toArray(ValueLayout.JAVA_BYTE))
                    .containsExactly(whole.asSlice(9 * f16.rowBytes(), 10 * f16.rowBytes()).toArray(ValueLayout.JAVA_BYTE));
        }
    }
}
