package dev.panllama.tensor.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.BlockCodec;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The K-quant codecs against llama.cpp's files (../shared/reference/zoo, see its README):
 * zoo-llama-TYPE.gguf is {@code llama-quantize --pure} of zoo-llama-f32.gguf, and dequant-stats.json
 * holds gguf-py's dequantization statistics of every tensor. Q4_K and Q6_K and the statistics are
 * bundled under testdata/zoo so that the dequantization check runs without ../shared.
 */
class KQuantOracleTest {
    private static final String ZOO = "reference/zoo/";

    /**
     * gguf-py evaluates the same float32 expressions as ggml, so values must agree bit for bit;
     * 1e-6 relative on the double sums allows for a different summation order only.
     */
    private static final double SUM_REL_TOL = 1e-6;

    /** llama-quantize runs ggml's reference quantizers; the share of byte-identical blocks we require. */
    private static final double MIN_IDENTICAL_BLOCKS = 0.999;

    @ParameterizedTest
    @ValueSource(strings = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void dequantizationMatchesGgufPyStatistics(String typeName) throws IOException {
        Path quantized = zooFile("zoo-llama-" + typeName + ".gguf");
        JsonNode expected = dequantStats().get(typeName);
        Optional<Path> f32Path = TestFiles.shared().map(s -> s.resolve(ZOO + "zoo-llama-f32.gguf")).filter(Files::exists);
        if (f32Path.isEmpty()) {
            System.out.println("NOTE: zoo-llama-f32.gguf is not in ../shared; RMSE versus F32 is not checked");
        }
        int quantizedTensors = 0;
        double worstSumRel = 0;
        double worstRmseRel = 0;
        try (MappedGguf q = MappedGguf.open(quantized);
             MappedGguf f32 = f32Path.isPresent() ? MappedGguf.open(f32Path.get()) : null) {
            assertThat(new TreeSet<>(q.tensors().stream().map(Tensor::name).toList()))
                    .containsExactlyElementsOf(fieldNames(expected));
            for (Tensor t : q.tensors()) {
                JsonNode stats = expected.get(t.name());
                String what = typeName + " " + t.name();
                assertThat(t.type().name()).as(what).isEqualTo(stats.get("type").asText());
                float[] values = t.toFloatArray();
                assertThat((long) values.length).as(what).isEqualTo(stats.get("n").asLong());
                for (int i = 0; i < 8; i++) {
                    assertThat((double) values[i]).as(what + " value " + i).isEqualTo(stats.get("first8").get(i).asDouble());
                }
                double sum = 0;
                double sumSq = 0;
                for (float v : values) {
                    sum += v;
                    sumSq += (double) v * v;
                }
                double wantSum = stats.get("sum").asDouble();
                double wantSumSq = stats.get("sumsq").asDouble();
                assertThat(sum).as(what + " sum").isCloseTo(wantSum, within(Math.abs(wantSum) * SUM_REL_TOL));
                assertThat(sumSq).as(what + " sumsq").isCloseTo(wantSumSq, within(wantSumSq * SUM_REL_TOL));
                worstSumRel = Math.max(worstSumRel, Math.max(relDiff(sum, wantSum), relDiff(sumSq, wantSumSq)));
                if (f32 != null) {
                    double rmse = rmse(values, f32.tensor(t.name()).toFloatArray());
                    double want = stats.get("rmse_vs_f32").asDouble();
                    assertThat(rmse).as(what + " rmse vs f32").isCloseTo(want, within(want * SUM_REL_TOL));
                    worstRmseRel = Math.max(worstRmseRel, relDiff(rmse, want));
                }
                if (t.type().name().equals(typeName)) quantizedTensors++;
            }
        }
        System.out.printf("dequant %s: %d tensors (%d of type %s) match dequant-stats.json: first8 exact, worst sum/sumsq rel diff %.2e%s; from %s%n",
                typeName, expected.size(), quantizedTensors, typeName, worstSumRel,
                f32Path.isPresent() ? String.format(", worst RMSE rel diff %.2e", worstRmseRel) : "",
                quantized.toAbsolutePath().startsWith(TestFiles.root()) ? "bundled testdata/zoo" : "../shared");
        assertThat(quantizedTensors).isPositive();
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void quantizationReproducesLlamaQuantizeBlocks(String typeName) throws IOException {
        Path f32Path = TestFiles.requireShared(ZOO + "zoo-llama-f32.gguf");
        Path quantized = TestFiles.requireShared(ZOO + "zoo-llama-" + typeName + ".gguf");
        GgmlType type = GgmlType.valueOf(typeName);
        BlockCodec codec = type.codec();
        long blocks = 0;
        long identical = 0;
        List<String> differing = new ArrayList<>();
        long start = System.nanoTime();
        try (MappedGguf f32 = MappedGguf.open(f32Path); MappedGguf q = MappedGguf.open(quantized)) {
            for (Tensor reference : q.tensors()) {
                if (reference.type() != type) continue;
                float[] x = f32.tensor(reference.name()).toFloatArray();
                byte[] ours = new byte[Math.toIntExact(reference.byteSize())];
                codec.quantize(x, 0, MemorySegment.ofArray(ours), 0, x.length);
                byte[] theirs = reference.data().toArray(ValueLayout.JAVA_BYTE);
                int size = type.typeSize();
                int tensorDiffs = 0;
                for (int b = 0; b < ours.length / size; b++) {
                    blocks++;
                    if (MemorySegment.mismatch(MemorySegment.ofArray(ours), (long) b * size, (long) (b + 1) * size,
                            MemorySegment.ofArray(theirs), (long) b * size, (long) (b + 1) * size) < 0) {
                        identical++;
                    } else {
                        tensorDiffs++;
                    }
                }
                if (tensorDiffs > 0) differing.add(reference.name() + ": " + tensorDiffs);
            }
        }
        double share = (double) identical / blocks;
        System.out.printf("quantize %s: %d of %d blocks byte-identical to llama-quantize (%.3f%%) in %d ms%s%n",
                typeName, identical, blocks, 100 * share, (System.nanoTime() - start) / 1_000_000,
                differing.isEmpty() ? "" : "; differing blocks per tensor: " + differing);
        assertThat(blocks).isPositive();
        assertThat(share).as(typeName + " share of identical blocks").isGreaterThanOrEqualTo(MIN_IDENTICAL_BLOCKS);
    }

    /** The zoo file from ../shared, else the bundled copy, else skip (printing why). */
    private static Path zooFile(String name) {
        if (TestFiles.shared().isEmpty() && Files.exists(TestFiles.root().resolve("testdata/zoo/" + name))) {
            return TestFiles.bundled("zoo/" + name);
        }
        return TestFiles.requireShared(ZOO + name);
    }

    private static JsonNode dequantStats() throws IOException {
        Path path = TestFiles.shared().map(s -> s.resolve(ZOO + "dequant-stats.json")).filter(Files::exists)
                .orElseGet(() -> TestFiles.bundled("zoo/dequant-stats.json"));
        return new ObjectMapper().readTree(path.toFile());
    }

    private static double relDiff(double actual, double expected) {
        return expected == 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
    }

    private static double rmse(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            sum += d * d;
        }
        return Math.sqrt(sum / a.length);
    }

    private static TreeSet<String> fieldNames(JsonNode object) {
        TreeSet<String> names = new TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
