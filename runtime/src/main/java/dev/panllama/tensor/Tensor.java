package dev.panllama.tensor;

import dev.panllama.tensor.codec.RowGroupCodec;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A tensor's type, shape and bytes. For weights read from GGUF the bytes are a zero-copy slice of
 * the mapped file. Rows are the unit of every kernel: row r holds elements [r*ne0, (r+1)*ne0). For
 * the row-interleaved types ({@link GgmlType#interleavedRows()} > 1) rows come in groups whose bytes
 * are shared (see {@link RowGroupCodec}); {@link #dequantizeRow} still gives row r's values.
 */
public final class Tensor {
    private final String name;
    private final GgmlType type;
    private final long[] shape;
    private final MemorySegment data;
    private final long rowBytes;

    public Tensor(String name, GgmlType type, long[] shape, MemorySegment data) {
        this.name = name;
        this.type = type;
        this.shape = shape.clone();
        this.data = data;
        this.rowBytes = type.rowBytes(ne(0));
        long expected = Math.multiplyExact(rowBytes, rows());
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor " + name + " " + type + " " + Arrays.toString(shape)
                    + " needs " + expected + " bytes, has " + data.byteSize());
        }
        if (rows() % type.interleavedRows() != 0) {
            throw new IllegalArgumentException("tensor " + name + " " + type + " " + Arrays.toString(shape) + " has "
                    + rows() + " rows; this type stores rows in interleaved groups of " + type.interleavedRows());
        }
    }

    public String name() { return name; }

    public GgmlType type() { return type; }

    public long[] shape() { return shape.clone(); }

    /** ne[i], 1 beyond the stored dimensions. */
    public long ne(int i) { return i < shape.length ? shape[i] : 1; }

    public int nDims() { return shape.length; }

    public MemorySegment data() { return data; }

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Elements per row (ne0). */
    public long rowLength() { return ne(0); }

    public long rows() {
        long r = 1;
        for (int i = 1; i < shape.length; i++) r *= shape[i];
        return r;
    }

    public long rowBytes() { return rowBytes; }

    public long byteSize() { return data.byteSize(); }

    /** Decodes row r into {@code dst[dstOff, dstOff + ne0)}. */
    public void dequantizeRow(long r, float[] dst, int dstOff) {
        int group = type.interleavedRows();
        if (group == 1) {
            type.codec().dequantize(data, r * rowBytes, dst, dstOff, Math.toIntExact(ne(0)));
        } else {
            ((RowGroupCodec) type.codec()).dequantizeRow(data, (r - r % group) * rowBytes, (int) (r % group), dst, dstOff, Math.toIntExact(ne(0)));
        }
    }

    /** Decodes the first n elements (n is rounded up to whole rows internally). */
    public float[] firstValues(int n) {
        int count = (int) Math.min(n, elementCount());
        int ne0 = Math.toIntExact(ne(0));
        float[] row = new float[ne0];
        float[] out = new float[count];
        for (int done = 0, r = 0; done < count; r++) {
            dequantizeRow(r, row, 0);
            int k = Math.min(ne0, count - done);
            System.arraycopy(row, 0, out, done, k);
            done += k;
        }
        return out;
    }

    /** All elements as floats (for small tensors: norms, tests). */
    public float[] toFloatArray() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException("tensor " + name + " is too large for one float[]");
        float[] out = new float[(int) n];
        int ne0 = Math.toIntExact(ne(0));
        for (long r = 0, rows = rows(); r < rows; r++) dequantizeRow(r, out, (int) (r * ne0));
        return out;
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }
}
