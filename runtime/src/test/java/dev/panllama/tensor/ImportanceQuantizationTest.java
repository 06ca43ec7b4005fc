package dev.panllama.tensor;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Importance-weighted quantization (llama-quantize --imatrix) against ggml's own output. The fixture
 * under testdata/quant-imatrix (see PROVENANCE.md) holds 8 rows of 512 random values (small and
 * unit scale, outliers, an all-positive row, a zero block), 512 importance values (log-normal, a few
 * zeros) and, per type, the bytes ggml's quantize_TYPE produced for them with those quant_weights.
 * The codecs follow ggml's float operations in ggml's order, so every byte must match.
 */
class ImportanceQuantizationTest {
    private static final int ROWS = 8;
    private static final int COLS = 512;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "iq4_nl", "iq4_xs"})
    void weightedQuantizationMatchesGgmlByteForByte(String typeName) throws IOException {
        GgmlType type = GgmlType.byName(typeName);
        float[] x = floats(TestFiles.bundled("quant-imatrix/input-8x512.f32"));
        float[] importance = floats(TestFiles.bundled("quant-imatrix/importance-512.f32"));
        byte[] expected = Files.readAllBytes(TestFiles.bundled("quant-imatrix/" + typeName + ".bin"));

        byte[] ours = quantize(type, x, importance);

        assertThat(ours).hasSize(expected.length);
        int blocks = ours.length / type.typeSize();
        int identical = 0;
        for (int b = 0; b < blocks; b++) {
            int from = b * type.typeSize();
            if (java.util.Arrays.equals(ours, from, from + type.typeSize(), expected, from, from + type.typeSize())) identical++;
        }
        System.out.printf("IMATRIX %s: %d/%d blocks byte-identical to ggml's weighted quantizer%n", typeName, identical, blocks);
        assertThat(identical).as(typeName + " identical blocks").isEqualTo(blocks);
        if (type.codec().usesImportance()) {
            assertThat(quantize(type, x, null)).as(typeName + " without importance").isNotEqualTo(ours);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"q4_0", "q4_1", "q5_0", "q5_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "iq4_nl", "iq4_xs",
            "iq2_k", "iq2_ks", "iq3_k", "iq5_k", "iq6_k"})
    void importanceLowersTheImportanceWeightedError(String typeName) throws IOException {
        // The point of an imatrix: error on the columns that matter most (large mean squared
        // activation) shrinks, at the expense of the others. Measured as sum_j imp_j * (x_j - q_j)^2.
        GgmlType type = GgmlType.byName(typeName);
        float[] x = floats(TestFiles.bundled("quant-imatrix/input-8x512.f32"));
        float[] importance = floats(TestFiles.bundled("quant-imatrix/importance-512.f32"));

        double weighted = weightedError(type, x, quantize(type, x, importance), importance);
        double plain = weightedError(type, x, quantize(type, x, null), importance);

        System.out.printf("IMATRIX %s: importance-weighted squared error %.4g with importance, %.4g without (%.1f%%)%n",
                typeName, weighted, plain, 100 * (weighted / plain - 1));
        assertThat(weighted).as(typeName + " weighted error with importance vs without").isLessThan(plain);
    }

    private static byte[] quantize(GgmlType type, float[] x, float[] importance) {
        long rowBytes = type.rowBytes(COLS);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(rowBytes * ROWS);
            for (int r = 0; r < ROWS; r++) {
                type.codec().quantizeRow(x, r * COLS, importance, 0, out, r * rowBytes, COLS);
            }
            return out.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    private static double weightedError(GgmlType type, float[] x, byte[] quantized, float[] importance) {
        float[] back = new float[x.length];
        MemorySegment q = MemorySegment.ofArray(quantized);
        long rowBytes = type.rowBytes(COLS);
        for (int r = 0; r < ROWS; r++) type.codec().dequantize(q, r * rowBytes, back, r * COLS, COLS);
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - back[i];
            sum += importance[i % COLS] * d * d;
        }
        return sum;
    }

    private static float[] floats(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return v;
    }
}
