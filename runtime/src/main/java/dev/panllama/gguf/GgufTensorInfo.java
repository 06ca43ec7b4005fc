package dev.panllama.gguf;

import dev.panllama.tensor.GgmlType;

import java.util.Arrays;

/**
 * One tensor as described in a GGUF header.
 *
 * @param shape        dimensions in GGUF order (ne0, the row length, first)
 * @param dataOffset   offset of the tensor's bytes relative to the start of the data section
 * @param byteSize     bytes of tensor data
 * @param infoOffset   where the tensor info starts in the file (for error messages)
 */
public record GgufTensorInfo(String name, GgmlType type, long[] shape, long dataOffset, long byteSize, long infoOffset) {

    public GgufTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() { return shape.clone(); }

    public int nDims() { return shape.length; }

    /** ne[i], 1 beyond the stored dimensions (ggml's convention). */
    public long ne(int i) { return i < shape.length ? shape[i] : 1; }

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Number of rows: the product of all dimensions but the first. */
    public long rows() {
        return shape.length == 0 ? 1 : elementCount() / Math.max(1, shape[0]);
    }

    /** The shape as ggml prints it, e.g. {@code [64, 512]}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    /** Bytes of tensor data for a type and shape, with overflow reported as an exception. */
    static long byteSize(GgmlType type, long[] shape) {
        long rows = 1;
        for (int i = 1; i < shape.length; i++) rows = Math.multiplyExact(rows, shape[i]);
        long ne0 = shape.length == 0 ? 1 : shape[0];
        return Math.multiplyExact(type.rowBytes(ne0), rows);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape)
                && dataOffset == t.dataOffset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + shapeString();
    }
}
