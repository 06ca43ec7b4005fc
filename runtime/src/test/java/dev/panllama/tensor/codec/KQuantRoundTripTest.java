package dev.panllama.tensor.codec;

import dev.panllama.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Quantize then dequantize on synthetic data: the error each K-quant format allows, the edge cases
 * of ggml's algorithms (all-zero super-blocks, one huge value, negative-only and tiny inputs), and
 * Q8_K's layout, which has no llama-quantize file to compare with.
 */
class KQuantRoundTripTest {
    private static final int QK_K = 256;
    private static final int ROWS = 5;
    private static final int ROW_LENGTH = 3 * QK_K;

    /**
     * Largest allowed error of one element, as a fraction of its super-block's largest magnitude:
     * half a step of a grid of (levels - 1) steps spanning at most twice that magnitude (once for the
     * symmetric formats Q3_K and Q6_K, whose grids are centred on zero), plus about a third for the
     * rounding of the 4/6/8-bit sub-block scales and for values the scale searches choose to clip.
     * Q8_K's scale is the float max / 127 itself, so its bound is exactly half a step.
     */
    private static final Map<GgmlType, Double> MAX_ERROR_OVER_AMAX = Map.of(
            GgmlType.Q2_K, 0.40,   // 2 bits: 2 / 3 / 2 = 0.333
            GgmlType.Q3_K, 0.20,   // 3 bits, symmetric: 1 / 4 / 2 = 0.125, levels -4..3 clip the positive side
            GgmlType.Q4_K, 0.09,   // 4 bits: 2 / 15 / 2 = 0.067
            GgmlType.Q5_K, 0.045,  // 5 bits: 2 / 31 / 2 = 0.032
            GgmlType.Q6_K, 0.022,  // 6 bits, symmetric: 1 / 32 / 2 = 0.016
            GgmlType.Q8_K, 0.5 / 127 + 1e-6);

    /**
     * Root-mean-square error over the rms of standard normal data: the step of each format's grid
     * over a sub-block's typical range divided by sqrt(12), with about 25% headroom (measured: Q2_K
     * 0.30, Q3_K 0.15, Q4_K 0.072, Q5_K 0.036, Q6_K 0.018, Q8_K 0.0071).
     */
    private static final Map<GgmlType, Double> MAX_RELATIVE_RMSE = Map.of(
            GgmlType.Q2_K, 0.36,
            GgmlType.Q3_K, 0.19,
            GgmlType.Q4_K, 0.09,
            GgmlType.Q5_K, 0.045,
            GgmlType.Q6_K, 0.022,
            GgmlType.Q8_K, 0.009);

    @ParameterizedTest
    @EnumSource(names = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K"})
    void codecIsWiredIntoItsTypeRow(GgmlType type) {
        assertThat(type.hasCodec()).isTrue();
        assertThat(type.codec().canQuantize()).isTrue();
        assertThat(type.blockSize()).isEqualTo(QK_K);
        int blockBytes = switch (type) {
            case Q2_K -> Q2KBlockCodec.BLOCK_BYTES;
            case Q3_K -> Q3KBlockCodec.BLOCK_BYTES;
            case Q4_K -> Q45KBlockCodec.Q4_K.blockBytes;
            case Q5_K -> Q45KBlockCodec.Q5_K.blockBytes;
            case Q6_K -> Q6KBlockCodec.BLOCK_BYTES;
            default -> Q8KBlockCodec.BLOCK_BYTES;
        };
        assertThat(type.typeSize()).isEqualTo(blockBytes);
    }

    @ParameterizedTest
    @EnumSource(names = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K"})
    void gaussianRowsRoundTripWithinTheFormatsError(GgmlType type) {
        float[] x = new float[ROWS * ROW_LENGTH];
        Random random = new Random(7);
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();

        // Row by row at offsets (as a tensor writer calls it) and in one call give the same bytes.
        BlockCodec codec = type.codec();
        long rowBytes = type.rowBytes(ROW_LENGTH);
        byte[] byRow = new byte[Math.toIntExact(ROWS * rowBytes)];
        for (int r = 0; r < ROWS; r++) {
            codec.quantize(x, r * ROW_LENGTH, MemorySegment.ofArray(byRow), r * rowBytes, ROW_LENGTH);
        }
        assertThat(quantize(type, x)).isEqualTo(byRow);

        float[] y = new float[x.length];
        for (int r = ROWS - 1; r >= 0; r--) {
            codec.dequantize(MemorySegment.ofArray(byRow), r * rowBytes, y, r * ROW_LENGTH, ROW_LENGTH);
        }
        assertWithinFormatError(type, x, y);
        double squaredError = 0;
        double squares = 0;
        for (int i = 0; i < x.length; i++) {
            squaredError += (double) (y[i] - x[i]) * (y[i] - x[i]);
            squares += (double) x[i] * x[i];
        }
        assertThat(Math.sqrt(squaredError / squares)).as(type + " relative rmse").isLessThan(MAX_RELATIVE_RMSE.get(type));
    }

    @ParameterizedTest
    @EnumSource(names = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K"})
    void allZeroSuperBlockEncodesToZeroBytesAndDecodesToZero(GgmlType type) {
        float[] x = new float[3 * QK_K];
        Random random = new Random(11);
        for (int i = 0; i < QK_K; i++) {
            x[i] = (float) random.nextGaussian();
            x[2 * QK_K + i] = (float) random.nextGaussian();
        }
        byte[] q = quantize(type, x);
        int size = type.typeSize();
        for (int b = size; b < 2 * size; b++) assertThat(q[b]).as(type + " byte " + (b - size)).isZero();
        float[] y = dequantize(type, q, x.length);
        for (int i = QK_K; i < 2 * QK_K; i++) assertThat(Math.abs(y[i])).as(type + " value " + i).isZero();
        assertWithinFormatError(type, x, y);
    }

    @ParameterizedTest
    @EnumSource(names = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K"})
    void oneHugeValueKeepsItsMagnitude(GgmlType type) {
        float[] x = new float[2 * QK_K];
        Random random = new Random(13);
        for (int i = 0; i < x.length; i++) x[i] = (float) (0.01 * random.nextGaussian());
        x[37] = 1000f;
        x[QK_K + 200] = -1000f;
        float[] y = dequantize(type, quantize(type, x), x.length);
        // The huge value sets every scale of its super-block; the small values around it may fall
        // to a level of zero, but no error may exceed 0.1% of the huge value (worst measured: Q2_K 0.05%).
        for (int i = 0; i < x.length; i++) {
            assertThat((double) Math.abs(y[i] - x[i])).as(type + " value " + i).isLessThanOrEqualTo(1.0);
        }
        assertThat(y[37]).isBetween(999f, 1001f);
        assertThat(y[QK_K + 200]).isBetween(-1001f, -999f);
    }

    @ParameterizedTest
    @EnumSource(names = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K"})
    void negativeOnlyValues(GgmlType type) {
        float[] x = new float[3 * QK_K];
        Random random = new Random(17);
        for (int i = 0; i < x.length; i++) x[i] = -1f - random.nextFloat();
        float[] y = dequantize(type, quantize(type, x), x.length);
        assertWithinFormatError(type, x, y);
    }

    @ParameterizedTest
    @EnumSource(names = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K"})
    void tinyValuesNearZero(GgmlType type) {
        Random random = new Random(19);
        // 1e-3: the half-precision block scales of Q4_K and Q5_K (max scale / 63) are already
        // subnormal halves with a few significant bits, so allow twice the usual error (worst
        // measured: Q5_K 1.1x).
        float[] small = new float[2 * QK_K];
        for (int i = 0; i < small.length; i++) small[i] = (float) (1e-3 * random.nextGaussian());
        assertWithinFormatError(type, small, dequantize(type, quantize(type, small), small.length), 2);

        // 1e-6: the half-precision block scales of Q2_K..Q6_K underflow to the smallest subnormals or
        // zero and accuracy is lost (ggml writes the same bytes), but nothing may become NaN or
        // infinite, nor stray more than a few times the input's magnitude (worst measured: Q4_K and
        // Q5_K 2.5x, from a subnormal dmin times a 6-bit min).
        float[] tiny = new float[2 * QK_K];
        for (int i = 0; i < tiny.length; i++) tiny[i] = (float) (1e-6 * random.nextGaussian());
        float[] y = dequantize(type, quantize(type, tiny), tiny.length);
        double amax = 0;
        for (float v : tiny) amax = Math.max(amax, Math.abs(v));
        for (int i = 0; i < y.length; i++) {
            assertThat(Float.isFinite(y[i])).isTrue();
            assertThat((double) Math.abs(y[i] - tiny[i])).as(type + " value " + i).isLessThanOrEqualTo(4 * amax);
        }
        if (type == GgmlType.Q8_K) {
            assertWithinFormatError(type, tiny, y); // its scale is a float32
        }

        // Below 1e-15 (ggml's GROUP_MAX_EPS) the symmetric formats treat a group as zero, and the
        // others' half-precision scales round to zero: everything but Q8_K decodes to zero.
        float[] vanishing = new float[QK_K];
        for (int i = 0; i < vanishing.length; i++) vanishing[i] = (float) (1e-17 * random.nextGaussian());
        float[] z = dequantize(type, quantize(type, vanishing), vanishing.length);
        if (type == GgmlType.Q8_K) {
            assertWithinFormatError(type, vanishing, z);
        } else {
            for (int i = 0; i < z.length; i++) assertThat(Math.abs(z[i])).as(type + " value " + i).isZero();
        }
    }

    @Test
    void q8KLayoutScaleQuantsAndSums() {
        float[] x = new float[2 * QK_K];
        Random random = new Random(23);
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        x[100] = 5f;   // the largest magnitude of block 0, positive
        x[QK_K + 3] = -6f; // and of block 1, negative
        MemorySegment q = MemorySegment.ofArray(quantize(GgmlType.Q8_K, x));
        ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfShort i16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        float[] largest = {5f, -6f};
        int[] largestAt = {100, 3};
        for (int b = 0; b < 2; b++) {
            long base = 292L * b;
            // ggml-common.h block_q8_K: float d at 0, int8 qs[256] at 4, int16 bsums[16] at 260.
            float d = q.get(f32, base);
            assertThat(d).isEqualTo(1 / (-127f / largest[b]));
            assertThat(q.get(ValueLayout.JAVA_BYTE, base + 4 + largestAt[b])).isEqualTo((byte) -127);
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int i = 0; i < 16; i++) {
                    byte v = q.get(ValueLayout.JAVA_BYTE, base + 4 + 16 * g + i);
                    assertThat((int) v).isBetween(-127, 127);
                    sum += v;
                }
                assertThat(q.get(i16, base + 260 + 2 * g)).as("bsums[" + g + "]").isEqualTo((short) sum);
            }
        }
    }

    @Test
    void partialSuperBlockIsRejectedWithTheTypeNamed() {
        BlockCodec codec = GgmlType.Q4_K.codec();
        assertThatThrownBy(() -> codec.quantize(new float[300], 0, MemorySegment.ofArray(new byte[288]), 0, 300))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Q4_K").hasMessageContaining("256");
        assertThatThrownBy(() -> codec.dequantize(MemorySegment.ofArray(new byte[144]), 0, new float[256], 0, 100))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("100");
    }

    private static byte[] quantize(GgmlType type, float[] x) {
        byte[] q = new byte[Math.toIntExact(type.rowBytes(x.length))];
        type.codec().quantize(x, 0, MemorySegment.ofArray(q), 0, x.length);
        return q;
    }

    private static float[] dequantize(GgmlType type, byte[] q, int n) {
        float[] y = new float[n];
        type.codec().dequantize(MemorySegment.ofArray(q), 0, y, 0, n);
        return y;
    }

    /** Every element within the format's bound of its super-block's largest magnitude. */
    private static void assertWithinFormatError(GgmlType type, float[] x, float[] y) {
        assertWithinFormatError(type, x, y, 1);
    }

    /** Every element within {@code slack} times the format's bound of its super-block's largest magnitude. */
    private static void assertWithinFormatError(GgmlType type, float[] x, float[] y, double slack) {
        double bound = slack * MAX_ERROR_OVER_AMAX.get(type);
        for (int b = 0; b < x.length / QK_K; b++) {
            double amax = 0;
            for (int i = b * QK_K; i < (b + 1) * QK_K; i++) amax = Math.max(amax, Math.abs(x[i]));
            for (int i = b * QK_K; i < (b + 1) * QK_K; i++) {
                assertThat((double) Math.abs(y[i] - x[i])).as(type + " value " + i + " of " + x[i])
                        .isLessThanOrEqualTo(bound * amax);
            }
        }
    }
}
