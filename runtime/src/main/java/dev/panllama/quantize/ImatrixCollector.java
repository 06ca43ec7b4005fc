package dev.panllama.quantize;

import dev.panllama.backend.MatmulTap;
import dev.panllama.tensor.Tensor;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Collects an importance matrix as llama-imatrix does (tools/imatrix, collect_imatrix): for each
 * weight of a {@code blk.*} layer (and output.weight with {@code processOutput}), over every product
 * of at least 16 input rows, the sum of each column's squared activations, how many rows added to
 * it, and how many products there were (ncall). Written in llama.cpp's legacy {@code .dat} format
 * (save_imatrix: the mean square times ncall) that {@link ImportanceMatrix} and llama-quantize read.
 * Dense weights only: a product of expert tensors is refused.
 */
public final class ImatrixCollector implements MatmulTap.Listener {
    private static final class Stat {
        final double[] sums;
        final long[] counts;
        int ncall;

        Stat(int n) {
            sums = new double[n];
            counts = new long[n];
        }
    }

    private final boolean processOutput;
    private final Map<String, Stat> stats = new LinkedHashMap<>();

    public ImatrixCollector(boolean processOutput) {
        this.processOutput = processOutput;
    }

    @Override
    public synchronized void matmul(Tensor w, float[] x, int tokens) {
        String name = w.name();
        if (!(name.startsWith("blk.") || (processOutput && name.equals("output.weight")))) return;
        if (tokens < 16) return;            // llama-imatrix skips small batches too
        int cols = Math.toIntExact(w.rowLength());
        Stat s = stats.computeIfAbsent(name, k -> new Stat(cols));
        s.ncall++;
        for (int r = 0; r < tokens; r++) {
            int o = r * cols;
            for (int j = 0; j < cols; j++) {
                double v = x[o + j];
                s.sums[j] += v * v;
                s.counts[j]++;
            }
        }
    }

    /** Weights seen so far. */
    public synchronized int entries() { return stats.size(); }

    /**
     * Writes llama.cpp's legacy .dat: int32 entry count; per entry the name (int32 length, bytes), int32
     * ncall, int32 value count and float32 values (mean square times ncall); then int32 chunk count and
     * the dataset's name. Little-endian.
     */
    public synchronized void writeLegacy(Path file, int chunks, String dataset) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream os = Files.newOutputStream(tmp); DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(os))) {
            int32(out, stats.size());
            for (Map.Entry<String, Stat> e : stats.entrySet()) {
                byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
                Stat s = e.getValue();
                int32(out, name.length);
                out.write(name);
                int32(out, s.ncall);
                int32(out, s.sums.length);
                ByteBuffer b = ByteBuffer.allocate(s.sums.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (int j = 0; j < s.sums.length; j++) b.putFloat(s.counts[j] == 0 ? 0f : (float) (s.sums[j] / s.counts[j] * s.ncall));
                out.write(b.array());
            }
            int32(out, chunks);
            byte[] ds = dataset.getBytes(StandardCharsets.UTF_8);
            int32(out, ds.length);
            out.write(ds);
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Writes llama.cpp's GGUF imatrix (tools/imatrix since mid-2025): per weight NAME a tensor
     * {@code NAME.in_sum2} (F32, the sums of squared activations per column) and {@code NAME.counts}
     * (F32, one value: the rows summed); metadata imatrix.datasets, imatrix.chunk_count, imatrix.chunk_size.
     */
    public synchronized void writeGguf(Path file, int chunks, int chunkSize, String dataset) throws IOException {
        dev.panllama.gguf.GgufWriter w = new dev.panllama.gguf.GgufWriter();
        w.putString("general.type", "imatrix");
        w.putArray("imatrix.datasets", dev.panllama.gguf.GgufValueType.STRING, new String[]{dataset});
        w.putU32("imatrix.chunk_count", chunks);
        w.putU32("imatrix.chunk_size", chunkSize);
        for (Map.Entry<String, Stat> e : stats.entrySet()) {
            Stat s = e.getValue();
            float[] sums = new float[s.sums.length];
            for (int j = 0; j < sums.length; j++) sums[j] = (float) s.sums[j];
            w.addTensor(e.getKey() + ".in_sum2", dev.panllama.tensor.GgmlType.F32, new long[]{sums.length, 1}, floats(sums));
            w.addTensor(e.getKey() + ".counts", dev.panllama.tensor.GgmlType.F32, new long[]{1, 1}, floats(new float[]{s.counts[0]}));
        }
        w.write(file);
    }

    private static java.lang.foreign.MemorySegment floats(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return java.lang.foreign.MemorySegment.ofArray(b.array());
    }

    private static void int32(DataOutputStream out, int v) throws IOException {
        out.writeInt(Integer.reverseBytes(v));
    }
}
