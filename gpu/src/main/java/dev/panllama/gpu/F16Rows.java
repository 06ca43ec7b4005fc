package dev.panllama.gpu;

import dev.panllama.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Rows of a weight whose type has no CUDA kernel, decoded by its host codec ({@link Tensor#dequantizeRow},
 * which also undoes row interleaving) and rounded to F16 ({@link Float#floatToFloat16}): the bytes the
 * device holds for it, {@code 2 * ne0} per row, little-endian as in GGUF.
 */
final class F16Rows {
    private static final ValueLayout.OfShort F16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Tensor tensor;
    private final int rowLength;
    private final float[] row;

    F16Rows(Tensor tensor) {
        this.tensor = tensor;
        this.rowLength = Math.toIntExact(tensor.rowLength());
        this.row = new float[rowLength];
    }

    /** Bytes of one converted row. */
    long rowBytes() {
        return 2L * rowLength;
    }

    /** Bytes of the whole converted weight. */
    long byteSize() {
        return rowBytes() * tensor.rows();
    }

    /** Converts rows {@code [first, first + count)} into {@code dst} at {@code offset}. */
    void convert(long first, long count, MemorySegment dst, long offset) {
        for (long r = 0; r < count; r++) {
            tensor.dequantizeRow(first + r, row, 0);
            long o = offset + r * rowBytes();
            for (int j = 0; j < rowLength; j++) dst.set(F16_LE, o + 2L * j, Float.floatToFloat16(row[j]));
        }
    }
}
