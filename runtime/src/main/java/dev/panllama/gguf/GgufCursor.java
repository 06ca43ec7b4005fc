package dev.panllama.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.function.LongConsumer;

/**
 * A little-endian reader over a GGUF header that checks every read against the end of the file, so a
 * truncated or hostile file ends in a {@link GgufFormatException}, never an out-of-bounds access or an
 * allocation sized by an unchecked count.
 */
final class GgufCursor {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment data;
    private final long size;
    private final String file;
    private final LongConsumer fieldStarts;
    private long pos;

    GgufCursor(MemorySegment data, String file, LongConsumer fieldStarts) {
        this.data = data;
        this.size = data.byteSize();
        this.file = file;
        this.fieldStarts = fieldStarts;
    }

    /**
     * A name read from the file, made safe for a one-line message: control characters escaped, and cut
     * to 64 characters (a corrupt length can make a "name" of megabytes).
     */
    static String quote(String name) {
        StringBuilder sb = new StringBuilder("'");
        int n = 0;
        for (int i = 0; i < name.length() && n < 64; i++, n++) {
            char ch = name.charAt(i);
            if (ch < 0x20 || ch == 0x7f || Character.isSurrogate(ch) || ch == '\uFFFD') {
                sb.append(String.format("\\x%02x", (int) ch & 0xFF));
            } else {
                sb.append(ch);
            }
        }
        if (name.length() > 64) sb.append("...(").append(name.length()).append(" chars)");
        return sb.append('\'').toString();
    }

    long position() { return pos; }

    long remaining() { return size - pos; }

    long fileSize() { return size; }

    String file() { return file; }

    GgufFormatException error(long at, String field, String problem) {
        return new GgufFormatException(file, at, field, problem);
    }

    void seek(long newPos, String field) throws GgufFormatException {
        if (newPos < 0 || newPos > size) {
            throw error(pos, field, "offset " + newPos + " is outside the file of " + size + " bytes");
        }
        pos = newPos;
    }

    private void need(long n, String field, String what) throws GgufFormatException {
        if (fieldStarts != null) fieldStarts.accept(pos);
        if (n > size - pos) {
            throw error(pos, field, "file ends after " + (size - pos) + " bytes, " + what + " needs " + n + " (truncated file?)");
        }
    }

    byte i8(String field) throws GgufFormatException {
        need(1, field, "a 1-byte value");
        return data.get(ValueLayout.JAVA_BYTE, pos++);
    }

    short i16(String field) throws GgufFormatException {
        need(2, field, "a 2-byte value");
        short v = data.get(U16, pos);
        pos += 2;
        return v;
    }

    int i32(String field) throws GgufFormatException {
        need(4, field, "a 4-byte value");
        int v = data.get(U32, pos);
        pos += 4;
        return v;
    }

    long i64(String field) throws GgufFormatException {
        need(8, field, "an 8-byte value");
        long v = data.get(U64, pos);
        pos += 8;
        return v;
    }

    /** A u64 count or length that must fit in the rest of the file at {@code minBytesEach} per item. */
    long count(String field, long minBytesEach, String what) throws GgufFormatException {
        long at = pos;
        long n = i64(field);
        if (n < 0) {
            throw error(at, field, what + " " + Long.toUnsignedString(n) + " is larger than any file");
        }
        if (minBytesEach > 0 && n > (size - pos) / minBytesEach) {
            throw error(at, field, what + " " + n + " needs at least " + multiplyOrMax(n, minBytesEach)
                    + " bytes but only " + (size - pos) + " are left in the file");
        }
        return n;
    }

    private static String multiplyOrMax(long n, long each) {
        long r = n * each;
        return (r / each == n) ? Long.toString(r) : "more than " + Long.MAX_VALUE;
    }

    String string(String field) throws GgufFormatException {
        long at = pos;
        long len = i64(field);
        if (len < 0 || len > size - pos) {
            throw error(at, field, "string length " + Long.toUnsignedString(len) + " exceeds the "
                    + (size - pos) + " bytes left in the file");
        }
        if (len > Integer.MAX_VALUE - 8) {
            throw error(at, field, "string length " + len + " is larger than a string can be");
        }
        byte[] bytes = data.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
        pos += len;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The bytes between two positions already read. */
    MemorySegment slice(long start, long end) {
        return data.asSlice(start, end - start);
    }

    /** Bulk read of n primitive values of {@code elementBytes} each (already bounds-checked by the caller's count). */
    MemorySegment bytes(long n, String field) throws GgufFormatException {
        need(n, field, "the array data");
        MemorySegment s = data.asSlice(pos, n);
        pos += n;
        return s;
    }
}
