package dev.panllama.cpu;

import dev.panllama.tensor.codec.BlockCodec;

import java.lang.foreign.MemorySegment;

/**
 * Any type with a codec but no dedicated kernel: the row is decoded with the scalar codec into a
 * per-thread buffer and dotted in float. Correct for every type; slow.
 */
final class CodecRowKernel implements RowKernel {
    private final BlockCodec codec;
    private final ActivationFormat activation;
    private final ThreadLocal<float[]> rowBuffer = ThreadLocal.withInitial(() -> new float[0]);

    /** @param activation how ggml rounds the activations for this type (its vec_dot_type) */
    CodecRowKernel(BlockCodec codec, ActivationFormat activation) {
        this.codec = codec;
        this.activation = activation;
    }

    @Override
    public ActivationFormat activation() { return activation; }

    private float[] decode(MemorySegment w, long rowOff, int k) {
        float[] row = rowBuffer.get();
        if (row.length < k) {
            row = new float[k];
            rowBuffer.set(row);
        }
        codec.dequantize(w, rowOff, row, 0, k);
        return row;
    }

    @Override
    public float dot(MemorySegment w, long rowOff, Activations a, int t) {
        return VecMath.dot(decode(w, rowOff, a.k), 0, a.floats(), t * a.k, a.k);
    }

    @Override
    public void dotTokens(MemorySegment w, long rowOff, Activations a, float[] y, int yOff, int yStride) {
        float[] row = decode(w, rowOff, a.k);
        float[] x = a.floats();
        for (int t = 0; t < a.tokens; t++) y[t * yStride + yOff] = VecMath.dot(row, 0, x, t * a.k, a.k);
    }

    @Override
    public void dequantize(MemorySegment w, long rowOff, float[] dst, int dstOff, int k) {
        codec.dequantize(w, rowOff, dst, dstOff, k);
    }
}
