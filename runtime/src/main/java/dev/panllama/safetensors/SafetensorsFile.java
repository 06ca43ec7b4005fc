package dev.panllama.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One safetensors file, mapped: an 8-byte little-endian header length N, N bytes of JSON
 * ({@code {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}}, offsets
 * relative to the byte after the header), then the tensor bytes. Every field is checked before use,
 * so a damaged or hostile header fails with the file and field named, never with an allocation the
 * header asked for.
 */
public final class SafetensorsFile {
    /** safetensors' own limit on the header (MAX_HEADER_SIZE in the reference implementation). */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    static final JsonMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final Path path;
    private final Map<String, SafetensorsTensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Map<String, SafetensorsTensor> tensors, Map<String, String> metadata) {
        this.path = path;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Maps {@code path} into {@code arena} (the tensors live as long as it) and reads its header. */
    public static SafetensorsFile open(Path path, Arena arena) throws IOException {
        MemorySegment file;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
        return parse(path, file);
    }

    static SafetensorsFile parse(Path path, MemorySegment file) throws IOException {
        long size = file.byteSize();
        if (size < 8) throw new SafetensorsFormatException(path, "header length", "file of " + size + " bytes is too short");
        long headerBytes = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerBytes < 2 || headerBytes > size - 8 || headerBytes > MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(path, "header length", Long.toUnsignedString(headerBytes)
                    + " bytes does not fit the file (" + size + " bytes) or the " + MAX_HEADER_BYTES + "-byte limit");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.asSlice(8, headerBytes).toArray(ValueLayout.JAVA_BYTE));
        } catch (JacksonException e) {
            throw new SafetensorsFormatException(path, "header", "invalid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) throw new SafetensorsFormatException(path, "header", "is not a JSON object");
        long dataStart = 8 + headerBytes;
        long dataBytes = size - dataStart;

        Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                readMetadata(path, v, metadata);
                continue;
            }
            String where = "tensor '" + name + "'";
            if (!v.isObject()) throw new SafetensorsFormatException(path, where, "is not a JSON object");
            JsonNode dt = v.get("dtype");
            SafetensorsDType dtype = dt != null && dt.isTextual() ? SafetensorsDType.byName(dt.asText()) : null;
            if (dtype == null) {
                throw new SafetensorsFormatException(path, where + ".dtype", (dt == null ? "missing" : dt + " is not a known dtype"));
            }
            long[] shape = longs(path, where + ".shape", v.get("shape"), -1);
            long[] offsets = longs(path, where + ".data_offsets", v.get("data_offsets"), 2);
            long begin = offsets[0];
            long end = offsets[1];
            if (begin > end || end > dataBytes) {
                throw new SafetensorsFormatException(path, where + ".data_offsets", "[" + begin + ", " + end
                        + "] lies outside the " + dataBytes + " bytes of tensor data");
            }
            long expected;
            try {
                expected = dtype.byteSize();
                for (long d : shape) expected = Math.multiplyExact(expected, d);
            } catch (ArithmeticException overflow) {
                throw new SafetensorsFormatException(path, where + ".shape", "element count overflows");
            }
            if (expected != end - begin) {
                throw new SafetensorsFormatException(path, where + ".data_offsets", (end - begin) + " bytes, but "
                        + dtype + " " + java.util.Arrays.toString(shape) + " needs " + expected);
            }
            if (end > begin) ranges.add(new long[]{begin, end, tensors.size()});
            tensors.put(name, new SafetensorsTensor(name, dtype, shape, file.asSlice(dataStart + begin, end - begin), path));
        }
        checkNoOverlap(path, ranges, new ArrayList<>(tensors.keySet()));
        return new SafetensorsFile(path, tensors, metadata);
    }

    private static void readMetadata(Path path, JsonNode v, Map<String, String> out) throws SafetensorsFormatException {
        if (!v.isObject()) throw new SafetensorsFormatException(path, "__metadata__", "is not a JSON object");
        for (Map.Entry<String, JsonNode> m : v.properties()) {
            if (!m.getValue().isTextual()) {
                throw new SafetensorsFormatException(path, "__metadata__." + m.getKey(), "is not a string");
            }
            out.put(m.getKey(), m.getValue().asText());
        }
    }

    /** A JSON array of non-negative integers that fit a long; {@code length} -1 for any length. */
    private static long[] longs(Path path, String field, JsonNode a, int length) throws SafetensorsFormatException {
        if (a == null) throw new SafetensorsFormatException(path, field, "missing");
        if (!a.isArray() || (length >= 0 && a.size() != length)) {
            throw new SafetensorsFormatException(path, field, a + " is not an array of " + (length >= 0 ? length + " " : "") + "integers");
        }
        if (a.size() > 8) throw new SafetensorsFormatException(path, field, "has " + a.size() + " dimensions");
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode x = a.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToLong() || x.asLong() < 0) {
                throw new SafetensorsFormatException(path, field + "[" + i + "]", x + " is not a non-negative 64-bit integer");
            }
            out[i] = x.asLong();
        }
        return out;
    }

    /** The spec forbids tensors sharing bytes; a header that overlaps them is damaged or crafted. */
    private static void checkNoOverlap(Path path, List<long[]> ranges, List<String> names) throws SafetensorsFormatException {
        ranges.sort(Comparator.<long[]>comparingLong(r -> r[0]).thenComparingLong(r -> r[1]));
        for (int i = 1; i < ranges.size(); i++) {
            long[] prev = ranges.get(i - 1);
            long[] cur = ranges.get(i);
            if (cur[0] < prev[1]) {
                throw new SafetensorsFormatException(path, "tensor '" + names.get((int) cur[2]) + "'.data_offsets",
                        "overlaps tensor '" + names.get((int) prev[2]) + "'");
            }
        }
    }

    public Path path() { return path; }

    /** The tensors in header order. */
    public Map<String, SafetensorsTensor> tensors() { return tensors; }

    /** The {@code __metadata__} strings (e.g. {@code format: pt}). */
    public Map<String, String> metadata() { return metadata; }
}
