package dev.panllama.gpu;

import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Random weights and activations for the gpu module's tests. */
final class TestTensors {
    private TestTensors() {}

    /** Whether {@link #weight} can make a tensor of this type (its codec quantizes). */
    static boolean canMake(GgmlType t) {
        return t.hasCodec() && t.codec().canQuantize() && t != GgmlType.Q8_K && t != GgmlType.Q8_1;
    }

    /**
     * A {@code rows × k} weight of the type: Gaussian floats (std 0.05) quantized by the type's codec,
     * a whole group of rows at a time for the row-interleaved types.
     */
    static Tensor weight(Arena arena, String name, GgmlType type, int k, int rows, Random rnd) {
        long rowBytes = type.rowBytes(k);
        int group = type.interleavedRows();
        MemorySegment data = arena.allocate(rowBytes * rows, 64);
        float[] values = new float[group * k];
        for (int r = 0; r < rows; r += group) {
            for (int j = 0; j < values.length; j++) values[j] = (float) rnd.nextGaussian() * 0.05f;
            type.codec().quantize(values, 0, data, r * rowBytes, group * k);
        }
        return new Tensor(name, type, new long[]{k, rows}, data);
    }

    static float[] gaussian(Random rnd, int n, float std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian() * std;
        return x;
    }
}
