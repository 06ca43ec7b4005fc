package dev.panllama.quantize;

import dev.panllama.gguf.GgufValueType;
import dev.panllama.gguf.GgufWriter;
import dev.panllama.tensor.GgmlType;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes importance-matrix files in llama.cpp's two formats, for tests (no real imatrix ships with the
 * test data). Layouts as {@link ImportanceMatrix} documents them.
 */
public final class ImatrixFiles {
    private ImatrixFiles() {}

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * One matrix's statistics: per expert (one row for a dense matrix), the sum of squared activations
     * of each column, and how many activations were summed.
     */
    public record Entry(String name, float[][] sums, float[] counts) {
        /** A dense matrix whose column j has mean squared activation {@code means[j]} over {@code count} tokens. */
        public static Entry ofMeans(String name, float[] means, int count) {
            float[] sums = new float[means.length];
            for (int j = 0; j < means.length; j++) sums[j] = means[j] * count;
            return new Entry(name, new float[][]{sums}, new float[]{count});
        }
    }

    /** llama-imatrix's GGUF output: NAME.in_sum2 [columns, experts] and NAME.counts [1, experts], F32. */
    public static void writeGguf(Path file, List<Entry> entries, List<String> datasets, int chunkCount, int chunkSize) throws IOException {
        GgufWriter w = new GgufWriter();
        w.putString("general.type", "imatrix");
        w.putArray("imatrix.datasets", GgufValueType.STRING, datasets.toArray(String[]::new));
        w.putU32("imatrix.chunk_count", chunkCount);
        w.putU32("imatrix.chunk_size", chunkSize);
        for (Entry e : entries) {
            int experts = e.sums.length;
            int columns = e.sums[0].length;
            w.addTensor(e.name + ".in_sum2", GgmlType.F32, new long[]{columns, experts}, dst -> {
                for (int x = 0; x < experts; x++) MemorySegment.copy(e.sums[x], 0, dst, F32, 4L * x * columns, columns);
            });
            w.addTensor(e.name + ".counts", GgmlType.F32, new long[]{1, experts},
                    dst -> MemorySegment.copy(e.counts, 0, dst, F32, 0, experts));
        }
        w.write(file);
    }

    /**
     * The legacy .dat: per entry the call count and the per-column means times it (what llama.cpp's old
     * imatrix tool stored), experts' vectors one after another; then the chunk count and dataset name.
     */
    public static void writeLegacy(Path file, List<Entry> entries, int ncall, int chunkCount, String dataset) throws IOException {
        int bytes = 4;
        for (Entry e : entries) bytes += 12 + e.name.getBytes(StandardCharsets.UTF_8).length + 4 * e.sums.length * e.sums[0].length;
        bytes += 8 + dataset.getBytes(StandardCharsets.UTF_8).length;
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(entries.size());
        for (Entry e : entries) {
            byte[] name = e.name.getBytes(StandardCharsets.UTF_8);
            b.putInt(name.length).put(name).putInt(ncall).putInt(e.sums.length * e.sums[0].length);
            for (int x = 0; x < e.sums.length; x++) {
                for (float s : e.sums[x]) b.putFloat(s / e.counts[x] * ncall);
            }
        }
        byte[] ds = dataset.getBytes(StandardCharsets.UTF_8);
        b.putInt(chunkCount).putInt(ds.length).put(ds);
        Files.write(file, b.array());
    }

    /** A matrix held in memory: importance values by tensor name. */
    static ImportanceMatrix inMemory(Map<String, float[]> values) {
        return new ImportanceMatrix(Path.of("in-memory.imatrix"), ImportanceMatrix.Format.GGUF, values, List.of(), 0);
    }
}
