package dev.panllama.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our quantizers for ik_llama.cpp's IQ2_K, IQ2_KS, IQ3_K, IQ5_K, IQ6_K, IQ2_K_R4 and IQ3_K_R4 on
 * synthetic rows, without the reference files: what they write decodes, through our codecs, to
 * values within the type's error, a zero row stays zero, quantize equals quantizeRow without
 * importance, and the interleaved types hold exactly their plain type's encoding of each row, with
 * and without importance. (IkQuantizeTest compares with ik_llama.cpp's own files.)
 */
class IkQuantizeRoundTripTest {
    private static final int COLS = 1024;

    @ParameterizedTest(name = "{0} <= {1}")
    @CsvSource({"IQ2_K, 0.36", "IQ2_KS, 0.40", "IQ3_K, 0.19", "IQ5_K, 0.045", "IQ6_K, 0.022", "IQ2_K_R4, 0.36", "IQ3_K_R4, 0.19"})
    void decodedRowsTrackTheSource(String typeName, double bound) {
        GgmlType type = GgmlType.byName(typeName);
        int rows = type.interleavedRows() * 2;
        float[] x = gaussianRows(rows, 7);
        float[] back = roundTrip(type, x, null, rows);
        double err = 0, ref = 0;
        for (int i = 0; i < x.length; i++) {
            err += (double) (back[i] - x[i]) * (back[i] - x[i]);
            ref += (double) x[i] * x[i];
        }
        double relative = Math.sqrt(err / ref);
        System.out.printf("IK-ROUNDTRIP %s: RMSE / RMS %.4f%n", typeName, relative);
        assertThat(relative).as(typeName).isLessThanOrEqualTo(bound).isGreaterThan(bound / 4);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"IQ2_K", "IQ2_KS", "IQ3_K", "IQ5_K", "IQ6_K", "IQ2_K_R4", "IQ3_K_R4"})
    void zeroRowsStayZeroAndQuantizeIsQuantizeRowWithoutImportance(String typeName) {
        GgmlType type = GgmlType.byName(typeName);
        int rows = type.interleavedRows();
        float[] x = gaussianRows(rows, 11);
        Arrays.fill(x, 0, COLS, 0f); // the first row, and the first 256 values of every other
        for (int r = 1; r < rows; r++) Arrays.fill(x, r * COLS, r * COLS + 256, 0f);
        byte[] viaQuantize = new byte[Math.toIntExact(rows * type.rowBytes(COLS))];
        byte[] viaRow = viaQuantize.clone();
        type.codec().quantize(x, 0, MemorySegment.ofArray(viaQuantize), 0, rows * COLS);
        type.codec().quantizeRow(x, 0, null, 0, MemorySegment.ofArray(viaRow), 0, rows * COLS);
        assertThat(viaRow).isEqualTo(viaQuantize);
        float[] back = new float[x.length];
        type.codec().dequantize(MemorySegment.ofArray(viaQuantize), 0, back, 0, rows * COLS);
        for (int r = 0; r < rows; r++) {
            int zeros = r == 0 ? COLS : 256;
            // d = 0 times a negative level decodes to -0, which is as zero as +0.
            for (int j = 0; j < zeros; j++) assertThat(back[r * COLS + j] == 0f).as("row %d, value %d: %s", r, j, back[r * COLS + j]).isTrue();
        }
    }

    @ParameterizedTest(name = "{0} = 4 x {1}")
    @CsvSource({"IQ2_K_R4, IQ2_K", "IQ3_K_R4, IQ3_K"})
    void interleavedRowsAreThePlainTypesRows(String interleavedName, String plainName) {
        GgmlType interleaved = GgmlType.byName(interleavedName);
        GgmlType plain = GgmlType.byName(plainName);
        float[] x = gaussianRows(4, 3);
        float[] importance = importance(5);
        for (float[] imp : new float[][]{null, importance}) {
            float[] grouped = roundTrip(interleaved, x, imp, 4);
            float[] rowByRow = roundTrip(plain, x, imp, 4);
            assertThat(Arrays.mismatch(grouped, rowByRow)).as("importance " + (imp != null)).isEqualTo(-1);
        }
        assertThat(roundTrip(interleaved, x, importance, 4)).isNotEqualTo(roundTrip(interleaved, x, null, 4));
    }

    /** Quantizes rows (whole groups for the interleaved types, each with the same importance) and decodes them. */
    private static float[] roundTrip(GgmlType type, float[] x, float[] importance, int rows) {
        int unit = type.interleavedRows();
        long unitBytes = unit * type.rowBytes(COLS);
        MemorySegment q = MemorySegment.ofArray(new byte[Math.toIntExact(rows / unit * unitBytes)]);
        float[] back = new float[x.length];
        for (int r = 0; r < rows; r += unit) {
            long at = r / unit * unitBytes;
            type.codec().quantizeRow(x, r * COLS, importance, 0, q, at, unit * COLS);
            type.codec().dequantize(q, at, back, r * COLS, unit * COLS);
        }
        return back;
    }

    /** Gaussian values whose scale varies from block to block, with a few outliers. */
    private static float[] gaussianRows(int rows, long seed) {
        Random random = new Random(seed);
        float[] x = new float[rows * COLS];
        for (int i = 0; i < x.length; i++) {
            float scale = 0.02f * (1 + (i / 256) % 3);
            x[i] = (float) (random.nextGaussian() * scale * (random.nextInt(64) == 0 ? 4 : 1));
        }
        return x;
    }

    private static float[] importance(long seed) {
        Random random = new Random(seed);
        float[] imp = new float[COLS];
        for (int i = 0; i < COLS; i++) imp[i] = (float) Math.exp(2 * random.nextGaussian());
        return imp;
    }
}
