package dev.panllama.gguf;

import dev.panllama.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;

/**
 * Parses a GGUF v2/v3 header (gguf.h, docs/gguf.md) from a segment holding the whole file.
 *
 * <p>Every count, length and offset read from the file is checked against the bytes that remain
 * before anything is allocated from it, so a hostile file yields a {@link GgufFormatException} and
 * never an OOM, an out-of-bounds access or a long loop. Where ggml's reader is strict we are too
 * (tensor types, dimensions, alignment, tensor data laid out in order without overlap), except that a duplicate metadata key keeps the first value
 * with a warning, as the issue asks (llama.cpp's vocab files contain one).
 */
public final class GgufParser {
    private static final System.Logger LOG = System.getLogger("panllama.gguf");
    private static final byte[] MAGIC = "GGUF".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_DIMS = 4;                 // GGML_MAX_DIMS
    private static final int MAX_ARRAY_NESTING = 8;
    private static final int MIN_KV_BYTES = 8 + 4 + 1;      // empty key, type, 1-byte value
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;

    private GgufParser() {}

    /** Parses the header of {@code data}, a segment spanning the whole file named {@code file}. */
    public static GgufHeader parse(MemorySegment data, String file) throws GgufFormatException {
        return parse(data, file, null);
    }

    /** As {@link #parse(MemorySegment, String)}, reporting the offset of every field read (for tests). */
    static GgufHeader parse(MemorySegment data, String file, LongConsumer fieldStarts) throws GgufFormatException {
        GgufCursor c = new GgufCursor(data, file, fieldStarts);

        if (c.remaining() < 4) {
            throw c.error(0, "header.magic", "file is " + c.remaining() + " bytes, too short to be a GGUF file");
        }
        byte[] magic = data.asSlice(0, 4).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw c.error(0, "header.magic", "not a GGUF file: magic is " + printable(magic) + ", expected 'GGUF'");
        }
        c.seek(4, "header.magic");

        long versionAt = c.position();
        int version = c.i32("header.version");
        if (version == 0) {
            throw c.error(versionAt, "header.version", "bad GGUF version 0");
        }
        if ((version & 0xFFFF) == 0) {
            throw c.error(versionAt, "header.version", "version " + Integer.toUnsignedString(version)
                    + " looks byte-swapped: big-endian GGUF files are not supported");
        }
        if (version == 1) {
            throw c.error(versionAt, "header.version", "GGUF v1 is not supported (only v2 and v3)");
        }
        if (version < 0 || version > 3) {
            throw c.error(versionAt, "header.version", "GGUF version " + Integer.toUnsignedString(version)
                    + " is not supported (only v2 and v3)");
        }

        long nTensors = c.count("header.tensor_count", MIN_TENSOR_INFO_BYTES, "tensor count");
        long nKv = c.count("header.kv_count", MIN_KV_BYTES, "metadata entry count");

        Map<String, GgufEntry> entries = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            long keyAt = c.position();
            String key = c.string("kv[" + i + "].key");
            String field = "kv[" + i + "] " + GgufCursor.quote(key);
            long typeAt = c.position();
            GgufValueType type = valueType(c, field + ".type", typeAt);
            Object value = readValue(c, type, field + ".value", 0);
            if (entries.containsKey(key)) {
                LOG.log(System.Logger.Level.WARNING, file + ": duplicate metadata key " + GgufCursor.quote(key)
                        + " at byte " + keyAt + "; keeping the first value");
                continue;
            }
            entries.put(key, new GgufEntry(key, type, value, keyAt));
        }
        GgufMetadata metadata = new GgufMetadata(entries);

        int alignment = GgufHeader.DEFAULT_ALIGNMENT;
        GgufEntry alignEntry = entries.get(GgufHeader.KEY_ALIGNMENT);
        if (alignEntry != null) {
            if (alignEntry.type() != GgufValueType.UINT32) {
                throw c.error(alignEntry.offset(), GgufHeader.KEY_ALIGNMENT, "must be UINT32, not " + alignEntry.type());
            }
            long a = (Long) alignEntry.value();
            if (a == 0 || (a & (a - 1)) != 0 || a > (1 << 30)) {
                throw c.error(alignEntry.offset(), GgufHeader.KEY_ALIGNMENT, "alignment " + a + " is not a power of 2 up to 2^30");
            }
            alignment = (int) a;
        }

        List<GgufTensorInfo> infos = new ArrayList<>((int) Math.min(nTensors, 1 << 16));
        Set<String> names = new HashSet<>();
        for (long i = 0; i < nTensors; i++) {
            infos.add(readTensorInfo(c, i, names));
        }

        long dataOffset = nTensors > 0 ? alignUp(c.position(), alignment) : c.position();
        if (dataOffset > c.fileSize()) {
            throw c.error(c.position(), "data section", "data section would start at byte " + dataOffset
                    + ", past the end of the file (" + c.fileSize() + " bytes)");
        }
        long expected = 0;
        for (int i = 0; i < infos.size(); i++) {
            GgufTensorInfo t = infos.get(i);
            String field = "tensor " + GgufCursor.quote(t.name()) + ".offset";
            if (t.dataOffset() % alignment != 0) {
                throw c.error(t.infoOffset(), field, "data offset " + t.dataOffset()
                        + " is not a multiple of the alignment " + alignment);
            }
            long end = dataOffset + t.dataOffset();
            if (end < 0 || t.dataOffset() > c.fileSize() || (end += t.byteSize()) < 0 || end > c.fileSize()) {
                throw c.error(t.infoOffset(), field, "tensor data [" + (dataOffset + t.dataOffset()) + ", +"
                        + t.byteSize() + ") lies outside the file of " + c.fileSize() + " bytes (truncated file?)");
            }
            if (t.dataOffset() != expected) {
                throw c.error(t.infoOffset(), field, misplacedData(infos, i, expected, alignment));
            }
            // Both terms lie inside the file (checked above), so the sum cannot overflow.
            expected = alignUp(t.dataOffset() + t.byteSize(), alignment);
        }
        return new GgufHeader(version, metadata, List.copyOf(infos), alignment, dataOffset, c.fileSize());
    }

    /**
     * Why tensor {@code i} is not at {@code expected}. ggml's gguf reader (gguf.c, gguf_init_from_file_impl)
     * accepts a data section only when each tensor's data starts exactly where the previous tensor's
     * ends, padded to the alignment, in tensor-info order; any other offset means data that overlaps
     * another tensor's, or lies out of order or after a gap. An earlier offset always overlaps an earlier
     * tensor's bytes: the tensors before {@code i} are in place, and no aligned offset falls in padding.
     */
    private static String misplacedData(List<GgufTensorInfo> infos, int i, long expected, int alignment) {
        GgufTensorInfo t = infos.get(i);
        String rule = "each tensor's data must follow the previous tensor's in file order, padded to the alignment "
                + alignment + " (expected offset " + expected + ")";
        if (t.dataOffset() < expected) {
            for (int j = 0; j < i; j++) {
                GgufTensorInfo o = infos.get(j);
                if (t.dataOffset() >= o.dataOffset() && t.dataOffset() < o.dataOffset() + o.byteSize()) {
                    return "data offset " + t.dataOffset() + " overlaps the data of tensor " + GgufCursor.quote(o.name())
                            + " [" + o.dataOffset() + ", +" + o.byteSize() + "); " + rule;
                }
            }
            return "data offset " + t.dataOffset() + " overlaps earlier tensor data; " + rule;
        }
        return "data offset " + t.dataOffset() + " leaves a gap or is out of order; " + rule;
    }

    private static GgufTensorInfo readTensorInfo(GgufCursor c, long i, Set<String> names) throws GgufFormatException {
        long at = c.position();
        String name = c.string("tensor[" + i + "].name");
        String field = "tensor[" + i + "] " + GgufCursor.quote(name);
        if (!names.add(name)) {
            throw c.error(at, field + ".name", "duplicate tensor name");
        }
        long dimsAt = c.position();
        int nDims = c.i32(field + ".n_dims");
        if (nDims < 0 || nDims > MAX_DIMS) {
            throw c.error(dimsAt, field + ".n_dims", Integer.toUnsignedString(nDims) + " dimensions, at most " + MAX_DIMS + " are allowed");
        }
        long[] shape = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            long dAt = c.position();
            shape[d] = c.i64(field + ".ne[" + d + "]");
            if (shape[d] < 0) {
                throw c.error(dAt, field + ".ne[" + d + "]", "dimension " + Long.toUnsignedString(shape[d]) + " is negative or too large");
            }
            try {
                elements = Math.multiplyExact(elements, shape[d]);
            } catch (ArithmeticException e) {
                throw c.error(dAt, field + ".ne[" + d + "]", "element count overflows 64 bits");
            }
        }
        long typeAt = c.position();
        int typeId = c.i32(field + ".type");
        GgmlType type = GgmlType.byId(Integer.toUnsignedLong(typeId));
        if (type == null) {
            throw c.error(typeAt, field + ".type", "unknown tensor type id " + Integer.toUnsignedString(typeId));
        }
        long ne0 = nDims == 0 ? 1 : shape[0];
        if (ne0 % type.blockSize() != 0) {
            throw c.error(typeAt, field + ".type", "row of " + ne0 + " elements is not a multiple of "
                    + type.name() + "'s block size " + type.blockSize());
        }
        long bytes;
        try {
            bytes = GgufTensorInfo.byteSize(type, shape);
        } catch (ArithmeticException e) {
            throw c.error(dimsAt, field + ".ne", "tensor size in bytes overflows 64 bits");
        }
        long offAt = c.position();
        long offset = c.i64(field + ".offset");
        if (offset < 0) {
            throw c.error(offAt, field + ".offset", "data offset " + Long.toUnsignedString(offset) + " is outside any file");
        }
        return new GgufTensorInfo(name, type, shape, offset, bytes, at);
    }

    private static GgufValueType valueType(GgufCursor c, String field, long at) throws GgufFormatException {
        int id = c.i32(field);
        GgufValueType t = GgufValueType.byId(Integer.toUnsignedLong(id));
        if (t == null) {
            throw c.error(at, field, "unknown metadata value type " + Integer.toUnsignedString(id));
        }
        return t;
    }

    private static Object readValue(GgufCursor c, GgufValueType type, String field, int depth) throws GgufFormatException {
        return switch (type) {
            case UINT8 -> (long) Byte.toUnsignedInt(c.i8(field));
            case INT8 -> (long) c.i8(field);
            case UINT16 -> (long) Short.toUnsignedInt(c.i16(field));
            case INT16 -> (long) c.i16(field);
            case UINT32 -> Integer.toUnsignedLong(c.i32(field));
            case INT32 -> (long) c.i32(field);
            case UINT64, INT64 -> c.i64(field);
            case FLOAT32 -> Float.intBitsToFloat(c.i32(field));
            case FLOAT64 -> Double.longBitsToDouble(c.i64(field));
            case BOOL -> readBool(c, field);
            case STRING -> c.string(field);
            case ARRAY -> readArray(c, field, depth);
        };
    }

    private static Boolean readBool(GgufCursor c, String field) throws GgufFormatException {
        long at = c.position();
        byte b = c.i8(field);
        if (b != 0 && b != 1) {
            throw c.error(at, field, "bool value " + Byte.toUnsignedInt(b) + " is neither 0 nor 1");
        }
        return b == 1;
    }

    private static GgufArray readArray(GgufCursor c, String field, int depth) throws GgufFormatException {
        long at = c.position();
        if (depth >= MAX_ARRAY_NESTING) {
            throw c.error(at, field, "arrays nested deeper than " + MAX_ARRAY_NESTING + " levels");
        }
        GgufValueType elem = valueType(c, field + ".element_type", at);
        long n = c.count(field + ".count", elem.minEncodedSize(), "array of " + elem + " with count");
        long start = c.position();
        if (elem.size() > 0) {
            c.bytes(n * elem.size(), field);
        } else {
            // Walk the variable-length elements once to validate them and find the end; they are decoded on demand.
            for (long i = 0; i < n; i++) {
                if (elem == GgufValueType.STRING) {
                    long sAt = c.position();
                    long len = c.i64(field + "[" + i + "]");
                    if (len < 0 || len > c.remaining() || len > Integer.MAX_VALUE - 8) {
                        throw c.error(sAt, field + "[" + i + "]", "string length " + Long.toUnsignedString(len)
                                + " exceeds the " + c.remaining() + " bytes left in the file");
                    }
                    c.seek(c.position() + len, field + "[" + i + "]");
                } else {
                    readArray(c, field + "[" + i + "]", depth + 1);
                }
            }
        }
        return new GgufArray(elem, n, c.slice(start, c.position()));
    }

    static long alignUp(long x, long alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private static String printable(byte[] b) {
        StringBuilder sb = new StringBuilder("'");
        for (byte x : b) sb.append(x >= 32 && x < 127 ? (char) x : '.');
        sb.append("' (");
        for (int i = 0; i < b.length; i++) sb.append(i > 0 ? " " : "").append(String.format("%02x", b[i] & 0xFF));
        return sb.append(')').toString();
    }
}
