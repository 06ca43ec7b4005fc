package dev.panllama.model;

import dev.panllama.kv.KeyRotation;

import java.util.function.Consumer;

/**
 * Where RoPE sits in a KV cache's key rows, so that a context shift can re-rotate them: each row is
 * {@code heads} heads of {@code headDim} values, and in each head the {@code nRot} values from
 * {@code offset} were rotated by {@code angles} (adjacent pairs, or NeoX's halves).
 */
public record KeyRope(RopeAngles angles, int heads, int headDim, int offset, int nRot, boolean neox) implements KeyRotation {
    public KeyRope {
        if (offset < 0 || offset + nRot > headDim || nRot % 2 != 0) {
            throw new IllegalArgumentException("rope dims [" + offset + ", +" + nRot + ") do not fit heads of " + headDim);
        }
    }

    @Override
    public Consumer<float[]> by(int delta) {
        float[] cosSin = new float[nRot];
        angles.rotation(delta, cosSin);
        return row -> rotate(row, cosSin);
    }

    /** Rotates one decoded key row in place by the cos/sin pairs of {@link RopeAngles#rotation}. */
    void rotate(float[] row, float[] cosSin) {
        for (int h = 0; h < heads; h++) {
            int base = h * headDim + offset;
            for (int i = 0; i < nRot; i += 2) {
                int a = neox ? base + i / 2 : base + i;
                int b = neox ? base + i / 2 + nRot / 2 : base + i + 1;
                float c = cosSin[i], s = cosSin[i + 1];
                float x0 = row[a], x1 = row[b];
                row[a] = x0 * c - x1 * s;
                row[b] = x0 * s + x1 * c;
            }
        }
    }
}
