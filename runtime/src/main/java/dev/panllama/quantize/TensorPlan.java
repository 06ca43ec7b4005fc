package dev.panllama.quantize;

import dev.panllama.tensor.GgmlType;

import java.util.Arrays;

/**
 * What quantization does to one tensor.
 *
 * @param name       GGUF tensor name
 * @param shape      ne[0], ne[1], ...
 * @param from       its type in the input
 * @param to         its type in the output ({@code from} when it is copied unchanged)
 * @param reason     the rule that chose {@code to}, in words
 * @param importance the imatrix entry for it (null when there is none or the type takes none)
 */
public record TensorPlan(String name, long[] shape, GgmlType from, GgmlType to, String reason, float[] importance) {

    public TensorPlan {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public long rows() {
        return elementCount() / shape[0];
    }

    /** Whether the bytes are copied unchanged (same type in and out). */
    public boolean isCopy() {
        return from == to;
    }

    /** A conversion from an already block-quantized type (llama-quantize's "requantize"). */
    public boolean isRequantize() {
        return !isCopy() && from != GgmlType.F32 && from != GgmlType.F16 && from != GgmlType.BF16;
    }

    public long bytesBefore() {
        return from.rowBytes(shape[0]) * rows();
    }

    public long bytesAfter() {
        return to.rowBytes(shape[0]) * rows();
    }

    @Override
    public String toString() {
        return name + " " + Arrays.toString(shape) + " " + from.ggmlName() + " -> " + to.ggmlName() + " (" + reason + ")";
    }
}
