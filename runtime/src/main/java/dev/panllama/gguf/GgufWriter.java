package dev.panllama.gguf;

import dev.panllama.tensor.GgmlType;
import dev.panllama.util.ProgressListener;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF v3 files: metadata in insertion order, tensor infos, then each tensor's bytes at an
 * aligned offset. Tensor bytes are produced on demand by a {@link TensorData} writing straight into the
 * mapped output, so a converter or quantizer streams tensor by tensor without holding the model.
 * The file is written under a temporary name and renamed into place when complete.
 */
public final class GgufWriter {
    /**
     * Produces a tensor's bytes into {@code dst}, a segment of exactly the tensor's byte size. The
     * segment belongs to a shared arena, so the callback may fan the work out to other threads; it must
     * have finished writing when it returns.
     */
    @FunctionalInterface
    public interface TensorData {
        void writeTo(MemorySegment dst) throws IOException;
    }

    private record PendingTensor(String name, GgmlType type, long[] shape, long bytes, TensorData data) {}

    private final int alignment;
    private final Map<String, GgufEntry> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();

    public GgufWriter() {
        this(GgufHeader.DEFAULT_ALIGNMENT);
    }

    public GgufWriter(int alignment) {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
            throw new IllegalArgumentException("alignment " + alignment + " is not a power of 2");
        }
        this.alignment = alignment;
        if (alignment != GgufHeader.DEFAULT_ALIGNMENT) {
            put(GgufHeader.KEY_ALIGNMENT, GgufValueType.UINT32, (long) alignment);
        }
    }

    /**
     * Adds or replaces a metadata entry. Scalars are given as in {@link GgufEntry} (any {@link Number}
     * for numeric types); arrays as a {@link GgufArray} or a Java array ({@code String[]}, {@code int[]},
     * {@code long[]}, {@code float[]}, {@code double[]}, {@code boolean[]}, {@code byte[]}, {@code short[]})
     * via {@link #putArray}.
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        if (key.equals(GgufHeader.KEY_ALIGNMENT) && metadata.containsKey(key)
                && (type != GgufValueType.UINT32 || ((Number) value).longValue() != alignment)) {
            throw new IllegalArgumentException("general.alignment is fixed to " + alignment + " by this writer");
        }
        checkValue(type, value);
        metadata.put(key, new GgufEntry(key, type, value, -1));
        return this;
    }

    public GgufWriter putString(String key, String v) { return put(key, GgufValueType.STRING, v); }

    public GgufWriter putU32(String key, long v) { return put(key, GgufValueType.UINT32, v); }

    public GgufWriter putI32(String key, int v) { return put(key, GgufValueType.INT32, (long) v); }

    public GgufWriter putU64(String key, long v) { return put(key, GgufValueType.UINT64, v); }

    public GgufWriter putF32(String key, float v) { return put(key, GgufValueType.FLOAT32, v); }

    public GgufWriter putBool(String key, boolean v) { return put(key, GgufValueType.BOOL, v); }

    public GgufWriter putArray(String key, GgufValueType elementType, Object javaArray) {
        return put(key, GgufValueType.ARRAY, new JavaArray(elementType, javaArray));
    }

    /** Copies an entry read from another file (arrays byte for byte). */
    public GgufWriter copy(GgufEntry e) {
        return put(e.key(), e.type(), e.value());
    }

    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    public boolean contains(String key) { return metadata.containsKey(key); }

    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorData data) {
        for (PendingTensor t : tensors) {
            if (t.name.equals(name)) throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        if (shape.length > 4) throw new IllegalArgumentException("tensor '" + name + "' has more than 4 dimensions");
        long bytes = GgufTensorInfo.byteSize(type, shape);
        tensors.add(new PendingTensor(name, type, shape.clone(), bytes, data));
        return this;
    }

    /** Adds a tensor whose bytes already exist (copied verbatim). */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, MemorySegment bytes) {
        return addTensor(name, type, shape, dst -> MemorySegment.copy(bytes, 0, dst, 0, dst.byteSize()));
    }

    public void write(Path out) throws IOException {
        write(out, ProgressListener.NONE);
    }

    public void write(Path out, ProgressListener progress) throws IOException {
        byte[] header = encodeHeader();
        long dataStart = GgufParser.alignUp(header.length, alignment);
        long total = dataStart;
        long[] offsets = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            offsets[i] = total - dataStart;
            total = GgufParser.alignUp(total + tensors.get(i).bytes, alignment);
        }
        if (tensors.isEmpty()) total = header.length;
        Path parent = out.toAbsolutePath().getParent();
        // the file is renamed over out at the end: that would replace a device or a FIFO (/dev/full) with a regular file
        if (Files.exists(out) && !Files.isRegularFile(out)) {
            throw new IOException(out + ": " + (Files.isDirectory(out) ? "is a directory" : "not a regular file") + ", not replacing it");
        }
        if (!Files.isDirectory(parent)) throw new IOException(out + ": directory " + parent + " does not exist");
        Path tmp = Files.createTempFile(parent, out.getFileName().toString(), ".partial");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 Arena arena = Arena.ofShared()) {
                MemorySegment file = ch.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
                MemorySegment.copy(header, 0, file, ValueLayout.JAVA_BYTE, 0, header.length);
                long written = 0;
                long allBytes = 0;
                for (PendingTensor t : tensors) allBytes += t.bytes;
                for (int i = 0; i < tensors.size(); i++) {
                    PendingTensor t = tensors.get(i);
                    t.data.writeTo(file.asSlice(dataStart + offsets[i], t.bytes));
                    written += t.bytes;
                    progress.update("writing " + out.getFileName(), written, allBytes);
                }
                file.force();
            }
            // createTempFile makes the file private (0600); the output is an ordinary file like any other.
            try {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException notPosix) {
                // non-POSIX file system: keep its defaults
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private byte[] encodeHeader() {
        Encoder e = new Encoder();
        e.bytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        e.i32(3);
        e.i64(tensors.size());
        e.i64(metadata.size());
        for (GgufEntry entry : metadata.values()) {
            e.string(entry.key());
            e.i32(entry.type().id());
            e.value(entry.type(), entry.value());
        }
        long offset = 0;
        for (PendingTensor t : tensors) {
            e.string(t.name);
            e.i32(t.shape.length);
            for (long d : t.shape) e.i64(d);
            e.i32(t.type.id());
            e.i64(offset);
            offset = GgufParser.alignUp(offset + t.bytes, alignment);
        }
        return e.out.toByteArray();
    }

    /** The encoded elements of a Java array (as {@link #putArray} takes it), as they follow an array's count. */
    static byte[] encodeElements(GgufValueType elementType, Object javaArray) {
        JavaArray a = new JavaArray(elementType, javaArray);
        Encoder e = new Encoder();
        int n = a.length();
        for (int i = 0; i < n; i++) {
            Object x = a.get(i);
            if (elementType == GgufValueType.BOOL && !(x instanceof Boolean)) x = ((Number) x).longValue() != 0;
            e.value(elementType, x);
        }
        return e.out.toByteArray();
    }

    private static void checkValue(GgufValueType type, Object value) {
        boolean ok = switch (type) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> value instanceof Long || value instanceof Integer
                    || value instanceof Short || value instanceof Byte;
            case FLOAT32, FLOAT64 -> value instanceof Number;
            case BOOL -> value instanceof Boolean;
            case STRING -> value instanceof String;
            case ARRAY -> value instanceof GgufArray || value instanceof JavaArray;
        };
        if (!ok) throw new IllegalArgumentException("value " + value + " cannot be written as " + type);
    }

    /** An array given as a Java array, with the GGUF element type it is written as. */
    private record JavaArray(GgufValueType elementType, Object values) {
        JavaArray {
            boolean ok = switch (values) {
                case String[] s -> elementType == GgufValueType.STRING;
                case int[] a -> elementType.isInteger() || elementType == GgufValueType.BOOL;
                case long[] a -> elementType.isInteger();
                case short[] a -> elementType.isInteger();
                case byte[] a -> elementType.isInteger() || elementType == GgufValueType.BOOL;
                case float[] a -> elementType == GgufValueType.FLOAT32 || elementType == GgufValueType.FLOAT64;
                case double[] a -> elementType == GgufValueType.FLOAT32 || elementType == GgufValueType.FLOAT64;
                case boolean[] a -> elementType == GgufValueType.BOOL;
                default -> false;
            };
            if (!ok) throw new IllegalArgumentException(values.getClass().getSimpleName() + " cannot be written as an array of " + elementType);
        }

        int length() { return java.lang.reflect.Array.getLength(values); }

        Object get(int i) { return java.lang.reflect.Array.get(values, i); }
    }

    private static final class Encoder {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);
        final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        void bytes(byte[] b) { out.writeBytes(b); }

        void i8(long v) { out.write((int) v); }

        void i16(long v) { scratch.clear(); scratch.putShort((short) v); out.write(scratch.array(), 0, 2); }

        void i32(long v) { scratch.clear(); scratch.putInt((int) v); out.write(scratch.array(), 0, 4); }

        void i64(long v) { scratch.clear(); scratch.putLong(v); out.write(scratch.array(), 0, 8); }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            out.writeBytes(b);
        }

        void value(GgufValueType type, Object v) {
            switch (type) {
                case UINT8, INT8 -> i8(((Number) v).longValue());
                case UINT16, INT16 -> i16(((Number) v).longValue());
                case UINT32, INT32 -> i32(((Number) v).longValue());
                case UINT64, INT64 -> i64(((Number) v).longValue());
                case FLOAT32 -> i32(Float.floatToRawIntBits(((Number) v).floatValue()));
                case FLOAT64 -> i64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
                case BOOL -> i8(v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).longValue() != 0 ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> array(v);
            }
        }

        void array(Object v) {
            if (v instanceof GgufArray a) {
                i32(a.elementType().id());
                i64(a.size());
                out.writeBytes(a.rawBytes().toArray(ValueLayout.JAVA_BYTE));
                return;
            }
            JavaArray a = (JavaArray) v;
            i32(a.elementType().id());
            int n = a.length();
            i64(n);
            for (int i = 0; i < n; i++) {
                Object x = a.get(i);
                if (a.elementType() == GgufValueType.BOOL && !(x instanceof Boolean)) x = ((Number) x).longValue() != 0;
                value(a.elementType(), x);
            }
        }
    }
}
