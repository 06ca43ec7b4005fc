package dev.panllama.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A GGUF metadata array, kept as a view of its bytes in the file: nothing is copied or decoded until
 * asked for, so a 150k-entry token list costs nothing to open. Elements of fixed size are read at
 * random; strings and nested arrays are decoded in one pass by {@link #strings()} / {@link #arrays()}.
 */
public final class GgufArray {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final GgufValueType elementType;
    private final long count;
    private final MemorySegment raw;

    /** {@code raw} holds exactly the encoded elements (after the type id and the count). */
    GgufArray(GgufValueType elementType, long count, MemorySegment raw) {
        this.elementType = elementType;
        this.count = count;
        this.raw = raw;
    }

    /**
     * An array built in memory from a Java array ({@code String[]}, {@code int[]}, {@code float[]}, ... as
     * {@link GgufWriter#putArray} takes them), for metadata that did not come from a file.
     */
    public static GgufArray of(GgufValueType elementType, Object javaArray) {
        byte[] bytes = GgufWriter.encodeElements(elementType, javaArray);
        return new GgufArray(elementType, java.lang.reflect.Array.getLength(javaArray), MemorySegment.ofArray(bytes));
    }

    /** A copy on the heap, independent of the file the array was read from. */
    public static GgufArray copyOf(GgufArray a) {
        return new GgufArray(a.elementType, a.count, MemorySegment.ofArray(a.raw.toArray(ValueLayout.JAVA_BYTE)));
    }

    public GgufValueType elementType() { return elementType; }

    public long size() { return count; }

    /** The encoded elements, as they are in the file (for copying metadata verbatim). */
    public MemorySegment rawBytes() { return raw; }

    private void checkIndex(long i) {
        if (i < 0 || i >= count) throw new IndexOutOfBoundsException("index " + i + " of array of " + count);
    }

    /** Element i of an integer array, as a long (unsigned types are zero-extended). */
    public long getLong(long i) {
        checkIndex(i);
        return switch (elementType) {
            case UINT8 -> Byte.toUnsignedLong(raw.get(ValueLayout.JAVA_BYTE, i));
            case INT8 -> raw.get(ValueLayout.JAVA_BYTE, i);
            case UINT16 -> Short.toUnsignedLong(raw.get(I16, i * 2));
            case INT16 -> raw.get(I16, i * 2);
            case UINT32 -> Integer.toUnsignedLong(raw.get(I32, i * 4));
            case INT32 -> raw.get(I32, i * 4);
            case UINT64, INT64 -> raw.get(I64, i * 8);
            case BOOL -> raw.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
            default -> throw new IllegalStateException("array of " + elementType + " is not an integer array");
        };
    }

    /** Element i of a numeric array as a double. */
    public double getDouble(long i) {
        checkIndex(i);
        return switch (elementType) {
            case FLOAT32 -> raw.get(F32, i * 4);
            case FLOAT64 -> raw.get(F64, i * 8);
            case UINT64 -> Double.parseDouble(Long.toUnsignedString(raw.get(I64, i * 8)));
            default -> getLong(i);
        };
    }

    public boolean getBool(long i) {
        return getLong(i) != 0;
    }

    private int javaSize() {
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("array of " + count + " elements is too large for a Java array");
        }
        return (int) count;
    }

    public int[] toIntArray() {
        int[] out = new int[javaSize()];
        for (int i = 0; i < out.length; i++) out[i] = (int) getLong(i);
        return out;
    }

    public long[] toLongArray() {
        long[] out = new long[javaSize()];
        for (int i = 0; i < out.length; i++) out[i] = getLong(i);
        return out;
    }

    public float[] toFloatArray() {
        float[] out = new float[javaSize()];
        for (int i = 0; i < out.length; i++) out[i] = (float) getDouble(i);
        return out;
    }

    public boolean[] toBooleanArray() {
        boolean[] out = new boolean[javaSize()];
        for (int i = 0; i < out.length; i++) out[i] = getBool(i);
        return out;
    }

    /** The elements of a STRING array, decoded as UTF-8. */
    public String[] strings() {
        requireType(GgufValueType.STRING);
        String[] out = new String[javaSize()];
        long p = 0;
        for (int i = 0; i < out.length; i++) {
            int len = (int) raw.get(I64, p);
            p += 8;
            out[i] = new String(raw.asSlice(p, len).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            p += len;
        }
        return out;
    }

    /** The first n elements of a STRING array (for dumps of long arrays). */
    public String[] firstStrings(int n) {
        requireType(GgufValueType.STRING);
        String[] out = new String[(int) Math.min(n, count)];
        long p = 0;
        for (int i = 0; i < out.length; i++) {
            int len = (int) raw.get(I64, p);
            p += 8;
            out[i] = new String(raw.asSlice(p, len).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            p += len;
        }
        return out;
    }

    /** The elements of an ARRAY of arrays. */
    public GgufArray[] arrays() {
        requireType(GgufValueType.ARRAY);
        GgufArray[] out = new GgufArray[javaSize()];
        long p = 0;
        for (int i = 0; i < out.length; i++) {
            GgufValueType t = GgufValueType.byId(Integer.toUnsignedLong(raw.get(I32, p)));
            long n = raw.get(I64, p + 4);
            long len = encodedLength(t, n, raw, p + 12);
            out[i] = new GgufArray(t, n, raw.asSlice(p + 12, len));
            p += 12 + len;
        }
        return out;
    }

    private void requireType(GgufValueType t) {
        if (elementType != t) throw new IllegalStateException("array of " + elementType + ", not of " + t);
    }

    /** Byte length of n encoded elements of type t starting at {@code at} (the data was validated by the parser). */
    static long encodedLength(GgufValueType t, long n, MemorySegment seg, long at) {
        if (t.size() > 0) return n * t.size();
        long p = at;
        for (long i = 0; i < n; i++) {
            if (t == GgufValueType.STRING) {
                p += 8 + seg.get(I64, p);
            } else {
                GgufValueType inner = GgufValueType.byId(Integer.toUnsignedLong(seg.get(I32, p)));
                long m = seg.get(I64, p + 4);
                p += 12 + encodedLength(inner, m, seg, p + 12);
            }
        }
        return p - at;
    }

    @Override
    public String toString() {
        return "[" + elementType + " x " + count + "]";
    }
}
