package dev.panllama.tensor.codec;

import dev.panllama.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

/**
 * Quantize then dequantize random and edge-case data and check the error against what each format
 * guarantees. Bit-exactness against ggml is the oracle tests' job (DequantStatsTest,
 * QuantizeMatchesLlamaQuantizeTest); these pin the formats' error bounds, the edge cases model
 * weights rarely contain, and the offset handling of the codecs.
 */
class CodecRoundTripTest {

    /** Absolute rounding error of an fp16 value in fp16's subnormal range (spacing 2^-24). */
    private static final double HALF_SUBNORMAL_ERROR = 0x1p-25;

    /** Relative fp16 rounding error of a stored scale or minimum. */
    private static final double HALF_EPS = 0x1p-11;

    /** This package's codecs with the worst error each format allows in a block. */
    enum Format {
        // Symmetric: d = max / -8 puts the largest magnitude on level -8; a value of the opposite sign
        // and equal magnitude clamps to +7, one whole step off. fp16 d adds up to 8 steps * HALF_EPS.
        Q4_0(GgmlType.Q4_0, 0.090, 8) { double bound(Stats s) { return s.amax / 8 * (1 + 8 * HALF_EPS); } },
        Q5_0(GgmlType.Q5_0, 0.045, 16) { double bound(Stats s) { return s.amax / 16 * (1 + 16 * HALF_EPS); } },
        // Affine: half a step of (max - min) / levels, plus fp16 rounding of d (times the level) and m.
        Q4_1(GgmlType.Q4_1, 0.082, 15) { double bound(Stats s) { return (s.max - s.min) / 15 * (0.5 + 15 * HALF_EPS) + Math.abs(s.min) * HALF_EPS; } },
        Q5_1(GgmlType.Q5_1, 0.040, 31) { double bound(Stats s) { return (s.max - s.min) / 31 * (0.5 + 31 * HALF_EPS) + Math.abs(s.min) * HALF_EPS; } },
        // Nearest of 255 levels: half a step of amax / 127 plus 127 steps * HALF_EPS.
        Q8_0(GgmlType.Q8_0, 0.0056, 127) { double bound(Stats s) { return s.amax / 127 * (0.5 + 127 * HALF_EPS); } },
        Q8_1(GgmlType.Q8_1, 0.0056, 127) { double bound(Stats s) { return s.amax / 127 * (0.5 + 127 * HALF_EPS); } },
        // The non-linear grid has no closed-form bound (the scale is a least-squares fit); its widest
        // gap is 24 of 240, and on Gaussian data the worst error is ~0.087 amax. Require at least
        // Q4_0's guarantee.
        IQ4_NL(GgmlType.IQ4_NL, 0.080, 127) { double bound(Stats s) { return s.amax / 8; } },
        IQ4_XS(GgmlType.IQ4_XS, 0.080, 32 * 127) { double bound(Stats s) { return s.amax / 8; } };

        final GgmlType type;
        /**
         * Ceiling of RMSE / RMS on unit Gaussians: what the format reaches there (Q4_0 0.085, Q4_1
         * 0.078, Q5_0 0.042, Q5_1 0.037, Q8 0.0053, IQ4 0.076) plus about 5%, so that a worse choice of
         * scale shows up even where the per-value bound still holds.
         */
        final double maxRelativeRmse;
        /**
         * The largest multiple of the fp16 scale a value can be: where tiny data pushes the scale
         * into fp16's subnormal range, its absolute rounding error is multiplied by this much (for
         * IQ4_XS the super-block scale times a 6-bit sub-block scale times a level).
         */
        final int maxScaleMultiple;

        Format(GgmlType type, double maxRelativeRmse, int maxScaleMultiple) {
            this.type = type;
            this.maxRelativeRmse = maxRelativeRmse;
            this.maxScaleMultiple = maxScaleMultiple;
        }

        /** What an fp16 scale (and Q4_1/Q5_1's fp16 minimum) in the subnormal range can add. */
        double subnormalSlack() {
            return (maxScaleMultiple + 1) * HALF_SUBNORMAL_ERROR;
        }

        abstract double bound(Stats block);
    }

    record Stats(double amax, double min, double max) {
        static Stats of(float[] x, int from, int n) {
            double amax = 0, min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
            for (int i = from; i < from + n; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
                min = Math.min(min, x[i]);
                max = Math.max(max, x[i]);
            }
            return new Stats(amax, min, max);
        }
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void gaussianRowsRoundTripWithinFormatError(Format format) {
        float[] x = gaussian(7 * 768, 42, 1f);
        float[] y = roundTrip(format.type, x);
        assertWithinBound(format, x, y);
        double err2 = 0, sig2 = 0;
        for (int i = 0; i < x.length; i++) {
            err2 += (double) (x[i] - y[i]) * (x[i] - y[i]);
            sig2 += (double) x[i] * x[i];
        }
        assertThat(Math.sqrt(err2 / sig2)).as(format + " RMSE / RMS").isLessThanOrEqualTo(format.maxRelativeRmse);
    }

    /** Odd row count, rows of very different magnitude, each quantized at its own offsets. */
    @ParameterizedTest
    @EnumSource(Format.class)
    void rowsAtOffsetsMatchOneCallOverAllRows(Format format) {
        GgmlType type = format.type;
        int ne0 = 512;
        int rows = 5;
        float[] x = new float[rows * ne0];
        for (int r = 0; r < rows; r++) {
            float[] row = gaussian(ne0, 100 + r, (float) Math.pow(10, 2 * r - 4));
            System.arraycopy(row, 0, x, r * ne0, ne0);
        }
        BlockCodec codec = type.codec();
        long rowBytes = type.rowBytes(ne0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment whole = arena.allocate(rowBytes * rows);
            codec.quantize(x, 0, whole, 0, x.length);
            MemorySegment byRow = arena.allocate(rowBytes * rows);
            float[] y = new float[x.length];
            for (int r = rows - 1; r >= 0; r--) {
                codec.quantize(x, r * ne0, byRow, r * rowBytes, ne0);
                codec.dequantize(byRow, r * rowBytes, y, r * ne0, ne0);
            }
            assertThat(MemorySegment.mismatch(whole, 0, whole.byteSize(), byRow, 0, byRow.byteSize())).isEqualTo(-1L);
            assertWithinBound(format, x, y);
        }
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void allZeroBlockDecodesToZeros(Format format) {
        float[] y = roundTrip(format.type, new float[2 * format.type.blockSize()]);
        for (float v : y) assertThat(v == 0f).as(format + " decodes zeros to " + v).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void oneHugeValueIsKeptAndTheRestStayFinite(Format format) {
        for (float huge : new float[] {3e4f, -3e4f}) {
            float[] x = gaussian(format.type.blockSize(), 7, 0.01f);
            x[5] = huge;
            float[] y = roundTrip(format.type, x);
            assertWithinBound(format, x, y);
            assertThat(Math.abs(y[5] - huge)).as(format + " error on " + huge).isLessThanOrEqualTo(Math.abs(huge) / 8);
        }
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void negativeOnlyBlocks(Format format) {
        Random r = new Random(3);
        float[] x = new float[3 * format.type.blockSize()];
        for (int i = 0; i < x.length; i++) x[i] = -1f - 2f * r.nextFloat();
        assertWithinBound(format, x, roundTrip(format.type, x));
    }

    /** Scales below fp16's range underflow to zero: the output is zeros, never NaN or infinity. */
    @ParameterizedTest
    @EnumSource(Format.class)
    void valuesBelowHalfPrecisionDecodeFinite(Format format) {
        float[] x = gaussian(format.type.blockSize(), 9, 1e-30f);
        assertWithinBound(format, x, roundTrip(format.type, x));
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void partialBlocksAreRejected(Format format) {
        BlockCodec codec = format.type.codec();
        int n = format.type.blockSize() + 16;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4L * format.type.typeSize());
            assertThatThrownBy(() -> codec.quantize(new float[n], 0, seg, 0, n))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(format.name()).hasMessageContaining(String.valueOf(n));
            assertThatThrownBy(() -> codec.dequantize(seg, 0, new float[n], 0, n))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(format.name());
        }
    }

    /** Q8_1's second half caches d * sum(q), which the Q4_1/Q5_1 dot products use for the minimum term. */
    @Test
    void q8_1StoresScaledSumOfLevels() {
        float[] x = gaussian(4 * 32, 11, 1f);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment q = arena.allocate(GgmlType.Q8_1.rowBytes(x.length));
            Q8Codec.Q8_1.quantize(x, 0, q, 0, x.length);
            float[] y = new float[x.length];
            Q8Codec.Q8_1.dequantize(q, 0, y, 0, x.length);
            for (int b = 0; b < 4; b++) {
                double sum = 0;
                for (int j = 0; j < 32; j++) sum += y[32 * b + j];
                float s = QuantMath.half(q, 36L * b + 2);
                // s uses the unrounded d and is itself rounded to fp16; y uses the fp16 d.
                assertThat((double) s).as("block " + b).isCloseTo(sum, offset(4 * HALF_EPS * (Math.abs(sum) + 1)));
            }
        }
    }

    private static void assertWithinBound(Format format, float[] x, float[] y) {
        int bs = format.type.blockSize();
        for (int b = 0; b < x.length / bs; b++) {
            double bound = format.bound(Stats.of(x, b * bs, bs)) + format.subnormalSlack();
            for (int i = b * bs; i < (b + 1) * bs; i++) {
                assertThat(Float.isFinite(y[i])).as(format + " value " + i + " is " + y[i]).isTrue();
                assertThat(Math.abs((double) x[i] - y[i])).as(format + " error at " + i + " of " + x[i]).isLessThanOrEqualTo(bound);
            }
        }
    }

    private static float[] gaussian(int n, long seed, float scale) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = scale * (float) r.nextGaussian();
        return x;
    }

    private static float[] roundTrip(GgmlType type, float[] x) {
        BlockCodec codec = type.codec();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment q = arena.allocate(type.rowBytes(x.length));
            codec.quantize(x, 0, q, 0, x.length);
            float[] y = new float[x.length];
            codec.dequantize(q, 0, y, 0, x.length);
            return y;
        }
    }
}
