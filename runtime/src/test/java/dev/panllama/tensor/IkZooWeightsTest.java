package dev.panllama.tensor;

import dev.panllama.gguf.MappedGguf;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ik_llama.cpp's own files (../shared/reference/zoo-ik: {@code llama-quantize --pure} of
 * zoo-llama-f32.gguf by ik_llama.cpp) decoded by our codecs, against the F32 weights they were made
 * from: every tensor's RMSE relative to its RMS must stay below what the type's bits allow. A wrong
 * field, bit order or interleaving gives about 1.4 (uncorrelated values) or worse; the bounds are about
 * 15% above what the files show (printed), so they also catch a wrong grid or scale offset. The
 * row-interleaved files are ik_llama.cpp's plain quantization repacked, so their rows must decode to
 * exactly the values of the plain type's file: that pins the interleaving down bit for bit.
 */
class IkZooWeightsTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "IQ2_K, 0.35", "IQ2_KS, 0.40", "IQ2_K_R4, 0.35", "IQ3_K, 0.16", "IQ3_K_R4, 0.16",
            "IQ4_K, 0.075", "IQ4_K_R4, 0.075", "IQ4_KS, 0.085", "IQ4_KSS, 0.12", "IQ5_K, 0.038", "IQ6_K, 0.018",
            "Q4_0_R8, 0.10", "Q8_0_R8, 0.0065"})
    void decodedWeightsTrackTheF32Source(String typeName, double bound) throws IOException {
        GgmlType type = GgmlType.byName(typeName);
        Path f32Path = TestFiles.requireShared("reference/zoo/zoo-llama-f32.gguf");
        Path ikPath = TestFiles.requireShared("reference/zoo-ik/zoo-llama-" + typeName + ".gguf");
        int tensors = 0;
        double worst = 0;
        try (MappedGguf f32 = MappedGguf.open(f32Path); MappedGguf ik = MappedGguf.open(ikPath)) {
            for (Tensor t : ik.tensors()) {
                if (t.type() != type) continue;
                double relative = relativeRmse(f32.tensor(t.name()).toFloatArray(), t.toFloatArray());
                worst = Math.max(worst, relative);
                tensors++;
            }
        }
        System.out.printf("IK-ZOO %s: %d tensors, worst RMSE / RMS %.4f%n", typeName, tensors, worst);
        assertThat(tensors).as("tensors of type " + typeName).isPositive();
        assertThat(worst).as(typeName).isLessThanOrEqualTo(bound);
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({"IQ2_K_R4, zoo-ik/zoo-llama-IQ2_K", "IQ3_K_R4, zoo-ik/zoo-llama-IQ3_K", "IQ4_K_R4, zoo-ik/zoo-llama-IQ4_K",
            "Q4_0_R8, zoo/zoo-llama-Q4_0", "Q8_0_R8, zoo/zoo-llama-Q8_0"})
    void interleavedRowsDecodeToThePlainTypesValues(String interleavedName, String plainFile) throws IOException {
        GgmlType interleaved = GgmlType.byName(interleavedName);
        Path interleavedPath = TestFiles.requireShared("reference/zoo-ik/zoo-llama-" + interleavedName + ".gguf");
        Path plainPath = TestFiles.requireShared("reference/" + plainFile + ".gguf");
        int tensors = 0;
        try (MappedGguf a = MappedGguf.open(interleavedPath); MappedGguf b = MappedGguf.open(plainPath)) {
            for (Tensor t : a.tensors()) {
                if (t.type() != interleaved) continue;
                float[] ours = t.toFloatArray();
                float[] plain = b.tensor(t.name()).toFloatArray();
                // Arrays.mismatch rather than AssertJ's containsExactly, which is quadratic-slow on 10^5 elements.
                assertThat(Arrays.mismatch(ours, plain)).as("%s: first differing element", t.name()).isEqualTo(-1);
                tensors++;
            }
        }
        assertThat(tensors).isPositive();
    }

    static double relativeRmse(float[] reference, float[] decoded) {
        double err = 0, ref = 0;
        for (int i = 0; i < reference.length; i++) {
            double e = decoded[i] - reference[i];
            err += e * e;
            ref += (double) reference[i] * reference[i];
        }
        return Math.sqrt(err / ref);
    }
}
