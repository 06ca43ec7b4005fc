package dev.panllama.safetensors;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a safetensors file: its bytes are a zero-copy slice of the mapped file. The shape is
 * in the file's (PyTorch's) order, outermost first: a linear layer's weight is {@code [out, in]}.
 */
public record SafetensorsTensor(String name, SafetensorsDType dtype, long[] shape, MemorySegment data, Path file) {

    public SafetensorsTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() { return shape.clone(); }

    public int rank() { return shape.length; }

    /** Dimension i (outermost first). */
    public long dim(int i) { return shape[i]; }

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Elements of the innermost dimension (1 for a scalar). */
    public long rowLength() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** Decodes elements [first, first + n) as floats (float dtypes only). */
    public void decode(long first, float[] dst, int dstOff, int n) {
        dtype.decode(data, first, dst, dstOff, n);
    }

    /** All elements as floats, for small tensors (scales, norms). */
    public float[] toFloatArray() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException(name + " is too large for one float[]");
        float[] out = new float[(int) n];
        decode(0, out, 0, out.length);
        return out;
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape);
    }
}
