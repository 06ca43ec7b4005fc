package dev.panllama.quantize;

import dev.panllama.gguf.GgufArray;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An importance matrix (llama-imatrix's output): for each weight matrix, the mean square of the
 * activations that multiply each of its columns, one vector per expert for expert tensors. Both of
 * llama.cpp's file formats are read:
 * <ul>
 *   <li>GGUF (llama.cpp tools/imatrix since mid-2025): per matrix NAME, a tensor {@code NAME.in_sum2}
 *       (F32, [columns, experts]: sums of squared activations) and {@code NAME.counts} (F32, one count
 *       per expert); the importance is sum / count, or 1 where the count is 0 (an expert that saw no
 *       token). Metadata: imatrix.datasets, imatrix.chunk_count, imatrix.chunk_size.</li>
 *   <li>the legacy binary .dat: int32 entry count; per entry int32 name length, the name, int32 ncall,
 *       int32 value count, float32 values (already means, times ncall); then optionally int32 chunk
 *       count, int32 dataset-name length and the name. The importance is value / ncall.</li>
 * </ul>
 * Little-endian throughout. Facts from llama.cpp's tools/quantize (load_imatrix, load_legacy_imatrix)
 * and ik_llama.cpp's convert_imatrix_gguf_to_dat.py.
 */
public final class ImportanceMatrix {
    /** Which of the two formats a file was in. */
    public enum Format { GGUF, LEGACY_DAT }

    private final Path file;
    private final Format format;
    private final Map<String, float[]> values;
    private final List<String> datasets;
    private final int chunkCount;

    ImportanceMatrix(Path file, Format format, Map<String, float[]> values, List<String> datasets, int chunkCount) {
        this.file = file;
        this.format = format;
        this.values = Collections.unmodifiableMap(values);
        this.datasets = List.copyOf(datasets);
        this.chunkCount = chunkCount;
    }

    /** Reads either format, telling them apart by the GGUF magic. */
    public static ImportanceMatrix read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + ": no such imatrix file");
        byte[] magic = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            if (in.readNBytes(magic, 0, 4) < 4) throw new IOException(file + ": too short to be an imatrix file");
        }
        ImportanceMatrix m = new String(magic, StandardCharsets.US_ASCII).equals("GGUF") ? readGguf(file) : readLegacy(file);
        if (m.values.isEmpty()) throw new IOException(file + ": the imatrix has no entries");
        for (Map.Entry<String, float[]> e : m.values.entrySet()) {
            for (float v : e.getValue()) {
                if (!Float.isFinite(v)) throw new IOException(file + ": imatrix entry " + e.getKey() + " holds a non-finite value " + v);
            }
        }
        return m;
    }

    private static ImportanceMatrix readGguf(Path file) throws IOException {
        Map<String, Tensor> sums = new TreeMap<>();
        Map<String, Tensor> counts = new TreeMap<>();
        try (MappedGguf g = MappedGguf.open(file)) {
            for (Tensor t : g.tensors()) {
                String name = t.name();
                if (name.endsWith(".in_sum2")) sums.put(name.substring(0, name.length() - 8), t);
                else if (name.endsWith(".counts")) counts.put(name.substring(0, name.length() - 7), t);
            }
            Map<String, float[]> values = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : sums.entrySet()) {
                String name = e.getKey();
                Tensor sum = e.getValue();
                Tensor count = counts.get(name);
                if (count == null) throw new IOException(file + ": " + name + ".in_sum2 has no " + name + ".counts");
                if (sum.type() != GgmlType.F32 || count.type() != GgmlType.F32) {
                    throw new IOException(file + ": " + name + " sums and counts must be F32, not " + sum.type() + " and " + count.type());
                }
                long columns = sum.ne(0);
                long experts = sum.elementCount() / columns;
                if (count.elementCount() != experts) {
                    throw new IOException(String.format(Locale.ROOT, "%s: %s has %d sum vectors but %d counts",
                            file, name, experts, count.elementCount()));
                }
                float[] s = sum.toFloatArray();
                float[] c = count.toFloatArray();
                for (int x = 0; x < experts; x++) {
                    for (int j = 0; j < columns; j++) {
                        int i = (int) (x * columns + j);
                        s[i] = c[x] > 0 ? s[i] / c[x] : 1f;
                    }
                }
                values.put(name, s);
            }
            for (String name : counts.keySet()) {
                if (!sums.containsKey(name)) throw new IOException(file + ": " + name + ".counts has no " + name + ".in_sum2");
            }
            List<String> datasets = g.metadata().findArray("imatrix.datasets").map(a -> List.of(a.strings())).orElse(List.of());
            int chunks = g.metadata().getInt("imatrix.chunk_count", 0);
            return new ImportanceMatrix(file, Format.GGUF, values, datasets, chunks);
        }
    }

    private static ImportanceMatrix readLegacy(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Reader r = new Reader(file, ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena));
            int entries = r.int32("entry count");
            if (entries < 1) throw new IOException(file + ": not an imatrix file (entry count " + entries + ")");
            Map<String, float[]> values = new LinkedHashMap<>();
            for (int i = 0; i < entries; i++) {
                String name = r.string("name of entry " + (i + 1));
                int ncall = r.int32("call count of " + name);
                int n = r.int32("value count of " + name);
                if (n < 1) throw new IOException(file + ": entry " + name + " has " + n + " values");
                float[] v = r.floats(n, "values of " + name);
                if (ncall > 0) {
                    for (int j = 0; j < n; j++) v[j] /= ncall;
                }
                values.put(name, v);
            }
            int chunks = 0;
            List<String> datasets = List.of();
            if (r.remaining() > 0) {
                chunks = r.int32("chunk count");
                datasets = List.of(r.string("dataset name"));
            }
            return new ImportanceMatrix(file, Format.LEGACY_DAT, values, datasets, chunks);
        }
    }

    /** Bounds-checked little-endian reads with messages that say what was being read. */
    private static final class Reader {
        private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private final Path file;
        private final MemorySegment data;
        private long pos;

        Reader(Path file, MemorySegment data) {
            this.file = file;
            this.data = data;
        }

        long remaining() {
            return data.byteSize() - pos;
        }

        private void need(long bytes, String what) throws IOException {
            if (bytes < 0 || bytes > remaining()) {
                throw new IOException(String.format(Locale.ROOT, "%s: truncated imatrix: %s needs %d bytes at offset %d, %d left",
                        file, what, bytes, pos, remaining()));
            }
        }

        int int32(String what) throws IOException {
            need(4, what);
            int v = data.get(I32, pos);
            pos += 4;
            return v;
        }

        String string(String what) throws IOException {
            int len = int32("length of the " + what);
            need(len, what);
            String s = new String(data.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            pos += len;
            return s;
        }

        float[] floats(int n, String what) throws IOException {
            need(4L * n, what);
            float[] v = new float[n];
            MemorySegment.copy(data, F32, pos, v, 0, n);
            pos += 4L * n;
            return v;
        }
    }

    /**
     * The importance of {@code tensorName}'s columns: {@code columns * experts} values, expert e's
     * vector at offset e * columns.
     */
    public Optional<float[]> forTensor(String tensorName) {
        return Optional.ofNullable(values.get(tensorName));
    }

    public int entryCount() { return values.size(); }

    public Path file() { return file; }

    public Format format() { return format; }

    public List<String> datasets() { return datasets; }

    /** Chunks of text the matrix was computed on (0 when the file does not say). */
    public int chunkCount() { return chunkCount; }
}
