package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.assertj.core.api.Assertions.assertThat;

class VecMathTest {

    /** Every one of the 65536 half-precision bit patterns, NaNs and infinities included, converts exactly. */
    @Test
    void halfToFloatIsExactForEveryBitPattern() {
        short[] all = new short[65536];
        for (int i = 0; i < all.length; i++) all[i] = (short) i;
        MemorySegment seg = MemorySegment.ofArray(all);
        float[] out = new float[VecMath.FL];
        for (int i = 0; i < all.length; i += VecMath.FL) {
            VecMath.halfToFloat(ShortVector.fromMemorySegment(VecMath.S_HALF, seg, 2L * i, VecMath.LE)).intoArray(out, 0);
            for (int l = 0; l < VecMath.FL; l++) {
                float expected = Float.float16ToFloat(all[i + l]);
                if (Float.isNaN(expected)) assertThat(out[l]).as("half 0x%04x", i + l).isNaN();
                else assertThat(Float.floatToRawIntBits(out[l])).as("half 0x%04x", i + l).isEqualTo(Float.floatToRawIntBits(expected));
            }
        }
    }

    /** The fixed 256-bit conversion of the _R8 kernels gives the same bits, 8 at a time, at any preferred width. */
    @Test
    void halfToFloat8IsExactForEveryBitPattern() {
        short[] all = new short[65536];
        for (int i = 0; i < all.length; i++) all[i] = (short) i;
        MemorySegment seg = MemorySegment.ofArray(all);
        float[] out = new float[8];
        for (int i = 0; i < all.length; i += 8) {
            FloatVector v = VecMath.halfToFloat8(ShortVector.fromMemorySegment(ShortVector.SPECIES_128, seg, 2L * i, VecMath.LE));
            assertThat(v.length()).isEqualTo(8);
            v.intoArray(out, 0);
            for (int l = 0; l < 8; l++) {
                float expected = Float.float16ToFloat(all[i + l]);
                if (Float.isNaN(expected)) assertThat(out[l]).as("half 0x%04x", i + l).isNaN();
                else assertThat(Float.floatToRawIntBits(out[l])).as("half 0x%04x", i + l).isEqualTo(Float.floatToRawIntBits(expected));
            }
        }
    }

    @Test
    void bf16ToFloatIsExactForEveryBitPattern() {
        short[] all = new short[65536];
        for (int i = 0; i < all.length; i++) all[i] = (short) i;
        MemorySegment seg = MemorySegment.ofArray(all);
        float[] out = new float[VecMath.FL];
        for (int i = 0; i < all.length; i += VecMath.FL) {
            VecMath.bf16ToFloat(ShortVector.fromMemorySegment(VecMath.S_HALF, seg, 2L * i, VecMath.LE)).intoArray(out, 0);
            for (int l = 0; l < VecMath.FL; l++) {
                assertThat(Float.floatToRawIntBits(out[l])).isEqualTo((all[i + l] & 0xFFFF) << 16);
            }
        }
    }

    /**
     * Within 3 ulp of Math.exp wherever the result is a normal float; subnormal results within 3 units of
     * the smallest normal's ulp; 0 far below, infinity above ln(FLT_MAX).
     */
    @Test
    void expIsAccurate() {
        float[] x = new float[VecMath.FL];
        float[] y = new float[VecMath.FL];
        double worstUlps = 0;
        for (float v = -103f; v < 88.72f; v += 0.0137f) {
            for (int l = 0; l < x.length; l++) x[l] = v + l * 1e-4f;
            VecMath.exp(FloatVector.fromArray(VecMath.F, x, 0)).intoArray(y, 0);
            for (int l = 0; l < x.length; l++) {
                double exact = Math.exp(x[l]);
                if (exact > Float.MAX_VALUE) continue;
                double unit = Math.max(Math.ulp((float) exact), Math.ulp(Float.MIN_NORMAL));
                worstUlps = Math.max(worstUlps, Math.abs(y[l] - exact) / unit);
            }
        }
        System.out.println("VecMath.exp: worst error " + worstUlps + " ulp");
        assertThat(worstUlps).isLessThanOrEqualTo(3.0);
        float[] edges = {-110f, -1e30f, Float.NEGATIVE_INFINITY, 0f, 89f, 1e30f, Float.POSITIVE_INFINITY, 88.72f};
        y = new float[edges.length];
        // The edge cases a vector at a time, whatever the width (4, 8 or 16 lanes; the unused tail padded).
        float[] chunk = new float[VecMath.FL];
        float[] out = new float[VecMath.FL];
        for (int i = 0; i < edges.length; i += VecMath.FL) {
            int n = Math.min(VecMath.FL, edges.length - i);
            java.util.Arrays.fill(chunk, 0f);
            System.arraycopy(edges, i, chunk, 0, n);
            VecMath.exp(FloatVector.fromArray(VecMath.F, chunk, 0)).intoArray(out, 0);
            System.arraycopy(out, 0, y, i, n);
        }
        assertThat(y[0]).isZero();
        assertThat(y[1]).isZero();
        assertThat(y[2]).isZero();
        assertThat(y[3]).isEqualTo(1f);
        assertThat(y[4]).isInfinite();
        assertThat(y[5]).isInfinite();
        assertThat(y[6]).isInfinite();
        assertThat(y[7]).isCloseTo((float) Math.exp(88.72f), org.assertj.core.data.Percentage.withPercentage(1e-4));
    }
}
