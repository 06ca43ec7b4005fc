package dev.panllama.quantize;

import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.model.Architecture;
import dev.panllama.model.synth.SyntheticModel;
import dev.panllama.model.synth.SyntheticPreset;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import dev.panllama.testing.TestFiles;
import dev.panllama.util.ProgressListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** End to end on small synthetic models: what the Quantizer writes, with and without an imatrix. */
class QuantizerTest {

    private static Path synth(Path dir, Architecture arch, GgmlType type) throws IOException {
        Path f = dir.resolve(arch.ggufName() + "-" + type.ggmlName() + ".gguf");
        SyntheticModel.of(arch, SyntheticPreset.TINY, 2, type, 5).write(f, TestFiles.stories260K(), 2, ProgressListener.NONE);
        return f;
    }

    @Test
    void writesThePlannedTypesWithLlamaQuantizesMetadataAndTheSameBytesOnAnyThreadCount(@TempDir Path dir) throws IOException {
        Path in = synth(dir, Architecture.QWEN3MOE, GgmlType.F16);
        Path one = dir.resolve("one.gguf");
        Path three = dir.resolve("three.gguf");
        List<long[]> progress = new CopyOnWriteArrayList<>();
        try (MappedGguf model = MappedGguf.open(in)) {
            QuantPlan plan = QuantPlanner.plan(model, QuantizeOptions.of(QuantMix.Q4_K_M));
            Quantizer.run(model, plan, one, 1, ProgressListener.NONE);
            Quantizer.Result r = Quantizer.run(model, plan, three, 3, (task, done, total) -> progress.add(new long[]{done, total}));
            assertThat(r.bytesBefore()).isEqualTo(model.tensorBytes());
            try (MappedGguf out = MappedGguf.open(three)) {
                for (TensorPlan t : plan.tensors()) assertThat(out.tensor(t.name()).type()).as(t.name()).isEqualTo(t.to());
                assertThat(out.tensors().stream().map(Tensor::name).toList())
                        .containsExactlyElementsOf(plan.tensors().stream().map(TensorPlan::name).toList());
                List<String> keys = out.metadata().entries().stream().map(GgufEntry::key).toList();
                assertThat(keys.subList(keys.size() - 2, keys.size())).containsExactly("general.quantization_version", "general.file_type");
                assertThat(out.metadata().getInt("general.file_type")).isEqualTo(15);
                assertThat(out.tensorBytes()).isEqualTo(plan.bytesAfter());
            }
        }
        assertThat(Files.mismatch(one, three)).isEqualTo(-1);
        assertThat(progress).isNotEmpty();
        for (int i = 1; i < progress.size(); i++) assertThat(progress.get(i)[0]).isGreaterThanOrEqualTo(progress.get(i - 1)[0]);
        assertThat(progress.getLast()[0]).isEqualTo(progress.getLast()[1]);
    }

    @Test
    void anImatrixIsUsedPerTensorAndPerExpert(@TempDir Path dir) throws IOException {
        Path in = synth(dir, Architecture.QWEN3MOE, GgmlType.F32);
        Path imatrix = dir.resolve("imatrix.gguf");
        Random rnd = new Random(3);
        List<ImatrixFiles.Entry> entries = new ArrayList<>();
        try (MappedGguf model = MappedGguf.open(in)) {
            for (Tensor t : model.tensors()) {
                if (t.nDims() < 2 || t.name().contains("ffn_gate_inp") || t.name().startsWith("token_embd")) continue;
                int experts = (int) t.ne(2);
                float[][] sums = new float[experts][(int) t.ne(0)];
                float[] counts = new float[experts];
                for (int x = 0; x < experts; x++) {
                    counts[x] = 50 + x;
                    for (int j = 0; j < sums[x].length; j++) sums[x][j] = (float) Math.exp(2 * rnd.nextGaussian()) * counts[x];
                }
                entries.add(new ImatrixFiles.Entry(t.name(), sums, counts));
            }
        }
        ImatrixFiles.writeGguf(imatrix, entries, List.of("calibration"), 8, 512);
        ImportanceMatrix im = ImportanceMatrix.read(imatrix);
        Path out = dir.resolve("out.gguf");
        try (MappedGguf model = MappedGguf.open(in)) {
            QuantizeOptions o = new QuantizeOptions(QuantMix.Q4_K_M, false, null, null, CustomRules.NONE, false, false, im);
            QuantPlan plan = QuantPlanner.plan(model, o);
            assertThat(plan.warnings()).containsExactly("token_embd.weight: no imatrix entry, quantized without importance");
            Quantizer.run(model, plan, out, 2, ProgressListener.NONE);
            try (MappedGguf q = MappedGguf.open(out); Arena arena = Arena.ofConfined()) {
                assertThat(q.metadata().getString("quantize.imatrix.file")).isEqualTo(imatrix.toString());
                assertThat(q.metadata().getString("quantize.imatrix.dataset")).isEqualTo("calibration");
                assertThat(q.metadata().getInt("quantize.imatrix.entries_count")).isEqualTo(entries.size());
                assertThat(q.metadata().getInt("quantize.imatrix.chunks_count")).isEqualTo(8);
                // Every row equals the codec's weighted quantization with its expert's importance vector.
                for (TensorPlan t : plan.tensors()) {
                    if (t.importance() == null) continue;
                    Tensor src = model.tensor(t.name());
                    Tensor dst = q.tensor(t.name());
                    int ne0 = (int) src.ne(0);
                    float[] row = new float[ne0];
                    MemorySegment expected = arena.allocate(dst.rowBytes());
                    for (long r = 0; r < src.rows(); r += 37) {
                        src.dequantizeRow(r, row, 0);
                        int expert = (int) (r / src.ne(1));
                        t.to().codec().quantizeRow(row, 0, t.importance(), expert * ne0, expected, 0, ne0);
                        assertThat(MemorySegment.mismatch(expected, 0, dst.rowBytes(), dst.data(), r * dst.rowBytes(), (r + 1) * dst.rowBytes()))
                                .as(t.name() + " row " + r).isEqualTo(-1);
                    }
                }
            }
        }
    }

    @Test
    void anImatrixLowersTheImportanceWeightedErrorOfTheModel(@TempDir Path dir) throws IOException {
        // Columns with a large mean squared activation matter most to the layer's output; with the
        // imatrix their error must shrink, summed over every quantized matrix (Q4_K_M, so K-quants).
        Path in = synth(dir, Architecture.LLAMA, GgmlType.F32);
        Path imatrix = dir.resolve("imatrix.dat");
        Random rnd = new Random(11);
        List<ImatrixFiles.Entry> entries = new ArrayList<>();
        try (MappedGguf model = MappedGguf.open(in)) {
            for (Tensor t : model.tensors()) {
                if (!t.name().startsWith("blk.") || t.nDims() < 2) continue;
                float[] means = new float[(int) t.ne(0)];
                for (int j = 0; j < means.length; j++) means[j] = (float) Math.exp(2 * rnd.nextGaussian());
                entries.add(ImatrixFiles.Entry.ofMeans(t.name(), means, 64));
            }
        }
        ImatrixFiles.writeLegacy(imatrix, entries, 64, 16, "random");
        ImportanceMatrix im = ImportanceMatrix.read(imatrix);
        Path with = dir.resolve("with.gguf");
        Path without = dir.resolve("without.gguf");
        try (MappedGguf model = MappedGguf.open(in)) {
            QuantizeOptions o = new QuantizeOptions(QuantMix.Q4_K_M, false, null, null, CustomRules.NONE, false, false, im);
            Quantizer.run(model, QuantPlanner.plan(model, o), with, 2, ProgressListener.NONE);
            Quantizer.run(model, QuantPlanner.plan(model, QuantizeOptions.of(QuantMix.Q4_K_M)), without, 2, ProgressListener.NONE);
            double errorWith = 0;
            double errorWithout = 0;
            try (MappedGguf a = MappedGguf.open(with); MappedGguf b = MappedGguf.open(without)) {
                for (ImatrixFiles.Entry e : entries) {
                    float[] importance = im.forTensor(e.name()).orElseThrow();
                    errorWith += weightedError(model.tensor(e.name()), a.tensor(e.name()), importance);
                    errorWithout += weightedError(model.tensor(e.name()), b.tensor(e.name()), importance);
                }
            }
            System.out.printf("IMATRIX model: importance-weighted squared error %.4g with the imatrix, %.4g without%n", errorWith, errorWithout);
            assertThat(errorWith).isLessThan(0.9 * errorWithout);
        }
    }

    private static double weightedError(Tensor original, Tensor quantized, float[] importance) {
        int ne0 = (int) original.ne(0);
        float[] x = new float[ne0];
        float[] q = new float[ne0];
        double sum = 0;
        for (long r = 0; r < original.rows(); r++) {
            original.dequantizeRow(r, x, 0);
            quantized.dequantizeRow(r, q, 0);
            for (int j = 0; j < ne0; j++) sum += importance[j] * (double) (x[j] - q[j]) * (x[j] - q[j]);
        }
        return sum;
    }

    @Test
    void requantizingNeedsPermissionAndCopiesKeepBytes(@TempDir Path dir) throws IOException {
        Path in = synth(dir, Architecture.LLAMA, GgmlType.Q8_0);
        Path out = dir.resolve("q4.gguf");
        try (MappedGguf model = MappedGguf.open(in)) {
            QuantPlan plan = QuantPlanner.plan(model, QuantizeOptions.of(QuantMix.Q4_K_M));
            assertThatThrownBy(() -> Quantizer.run(model, plan, out, 2, ProgressListener.NONE))
                    .hasMessageContaining("requantizing from type q8_0 is disabled").hasMessageContaining("--allow-requantize");
            assertThat(out).doesNotExist();
            QuantizeOptions allow = new QuantizeOptions(QuantMix.Q4_K_M, false, null, null, CustomRules.NONE, false, true, null);
            Quantizer.run(model, QuantPlanner.plan(model, allow), out, 2, ProgressListener.NONE);

            Path same = dir.resolve("same.gguf");
            Quantizer.run(model, QuantPlanner.plan(model, QuantizeOptions.of(QuantMix.Q8_0)), same, 2, ProgressListener.NONE);
            try (MappedGguf copy = MappedGguf.open(same)) {
                Tensor a = model.tensor("blk.0.ffn_up.weight");
                assertThat(a.data().mismatch(copy.tensor("blk.0.ffn_up.weight").data())).isEqualTo(-1);
            }
            assertThatThrownBy(() -> Quantizer.run(model, QuantPlanner.plan(model, QuantizeOptions.of(QuantMix.Q8_0)), in, 2, ProgressListener.NONE))
                    .hasMessageContaining("is the input");
        }
        try (MappedGguf q = MappedGguf.open(out)) {
            assertThat(q.tensor("output.weight").type()).isEqualTo(GgmlType.Q6_K);
            assertThat(q.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q4_K);
        }
    }
}
