package dev.panllama.backend;

import dev.panllama.tensor.Tensor;

/**
 * Scalar kernels: each weight row is decoded with its type's {@link dev.panllama.tensor.codec.BlockCodec} and
 * dotted with the activations in float. Slow and simple; it runs when no faster backend is on the
 * class path and is the oracle the fast kernels are tested against.
 */
public final class ReferenceKernels implements Kernels {

    @Override
    public String description() {
        return "reference (scalar Java, 1 thread)";
    }

    @Override
    public int threads() {
        return 1;
    }

    @Override
    public void matmul(Tensor w, long rowStart, int rowCount, float[] x, float[] y, int tokens) {
        int k = Math.toIntExact(w.rowLength());
        float[] row = new float[k];
        for (int r = 0; r < rowCount; r++) {
            w.dequantizeRow(rowStart + r, row, 0);
            for (int t = 0; t < tokens; t++) {
                int xo = t * k;
                float s = 0;
                for (int j = 0; j < k; j++) s += row[j] * x[xo + j];
                y[t * rowCount + r] = s;
            }
        }
    }
}
