package dev.panllama.tensor;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.gguf.MappedGguf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our dequantization of every tensor of zoo-llama-TYPE.gguf against gguf-py's (which mirrors ggml's
 * to_float): the first 8 values must be bit-identical (both are the same float products); sum, sum
 * of squares and RMSE versus the F32 source are summed in double, where only the summation order
 * differs, so 1e-6 relative is generous.
 */
class DequantStatsTest {
    private static final double REL_TOL = 1e-6;

    static List<String> types() {
        return ZooOracle.typeNames();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("types")
    void dequantizationMatchesGgufPy(String typeName) throws IOException {
        GgmlType type = ZooOracle.requireCodec(typeName);
        Path model = ZooOracle.require(ZooOracle.modelFile(typeName));
        Optional<Path> f32Model = ZooOracle.find(ZooOracle.F32_MODEL);
        JsonNode expected = ZooOracle.stats().get(typeName);

        double worstSum = 0, worstSumsq = 0, worstRmse = 0;
        int tensors = 0;
        try (MappedGguf gguf = MappedGguf.open(model);
             MappedGguf f32 = f32Model.isPresent() ? MappedGguf.open(f32Model.get()) : null) {
            for (Map.Entry<String, JsonNode> e : expected.properties()) {
                String name = e.getKey();
                JsonNode ref = e.getValue();
                Tensor t = gguf.tensor(name);
                assertThat(t.type().name()).as(name + " type").isEqualTo(ref.get("type").asText());
                assertThat(t.elementCount()).as(name + " n").isEqualTo(ref.get("n").asLong());

                float[] values = t.toFloatArray();
                for (int i = 0; i < 8; i++) {
                    assertThat((double) values[i]).as(name + " value " + i).isEqualTo(ref.get("first8").get(i).asDouble());
                }
                double sum = 0, sumsq = 0;
                for (float v : values) {
                    sum += v;
                    sumsq += (double) v * v;
                }
                worstSum = Math.max(worstSum, checkRelative(name + " sum", sum, ref.get("sum").asDouble()));
                worstSumsq = Math.max(worstSumsq, checkRelative(name + " sumsq", sumsq, ref.get("sumsq").asDouble()));
                if (f32 != null) {
                    float[] source = f32.tensor(name).toFloatArray();
                    double err = 0;
                    for (int i = 0; i < values.length; i++) {
                        double diff = (double) values[i] - source[i];
                        err += diff * diff;
                    }
                    double rmse = Math.sqrt(err / values.length);
                    worstRmse = Math.max(worstRmse, checkRelative(name + " rmse_vs_f32", rmse, ref.get("rmse_vs_f32").asDouble()));
                }
                tensors++;
            }
        }
        assertThat(tensors).as("tensors checked").isPositive();
        System.out.printf("DEQUANT %s: %d tensors, first8 exact; worst relative error sum %.2e, sumsq %.2e, rmse_vs_f32 %s (%s)%n",
                typeName, tensors, worstSum, worstSumsq, f32Model.isPresent() ? String.format("%.2e", worstRmse) : "not checked",
                model.getParent());
    }

    /** Asserts |actual - expected| <= REL_TOL * |expected| and returns the relative error. */
    private static double checkRelative(String what, double actual, double expected) {
        double err = Math.abs(actual - expected);
        assertThat(err).as(what + ": ours " + actual + ", gguf-py " + expected).isLessThanOrEqualTo(REL_TOL * Math.abs(expected));
        return expected == 0 ? 0 : err / Math.abs(expected);
    }
}
