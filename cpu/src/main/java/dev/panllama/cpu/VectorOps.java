package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static dev.panllama.cpu.VecMath.F;
import static dev.panllama.cpu.VecMath.FL;

/** The element-wise operations of a transformer block, vectorized. */
final class VectorOps {
    private VectorOps() {}

    static void rmsnorm(float[] x, float[] weight, float[] out, int tokens, int dim, float eps) {
        for (int t = 0; t < tokens; t++) {
            int o = t * dim;
            FloatVector acc = FloatVector.zero(F);
            int i = 0;
            for (; i + FL <= dim; i += FL) {
                FloatVector v = FloatVector.fromArray(F, x, o + i);
                acc = v.fma(v, acc);
            }
            double sum = VecMath.sum(acc);
            for (; i < dim; i++) sum += (double) x[o + i] * x[o + i];
            float scale = (float) (1.0 / Math.sqrt((float) (sum / dim) + eps));
            i = 0;
            for (; i + FL <= dim; i += FL) {
                FloatVector.fromArray(F, x, o + i).mul(scale).mul(FloatVector.fromArray(F, weight, i)).intoArray(out, o + i);
            }
            for (; i < dim; i++) out[o + i] = x[o + i] * scale * weight[i];
        }
    }

    /** gate = silu(gate) * up. */
    static void swiglu(float[] gate, float[] up, int n) {
        int i = 0;
        for (; i + FL <= n; i += FL) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            FloatVector silu = g.div(VecMath.exp(g.neg()).add(1f));
            silu.mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        for (; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1.0f + (float) Math.exp(-g)) * up[i];
        }
    }

    static void add(float[] x, float[] y, int n) {
        int i = 0;
        for (; i + FL <= n; i += FL) FloatVector.fromArray(F, x, i).add(FloatVector.fromArray(F, y, i)).intoArray(x, i);
        for (; i < n; i++) x[i] += y[i];
    }

    /** 0, 1, 2, ... as floats: lanes below a count, by one compare. */
    private static final FloatVector LANE_INDEX = FloatVector.fromArray(F, laneIndices(), 0);

    private static float[] laneIndices() {
        float[] f = new float[FL];
        for (int i = 0; i < FL; i++) f[i] = i;
        return f;
    }

    /** x[i] = exp(x[i] - max) for i < n; returns the sum (in double, as ggml's soft_max accumulates). */
    static double expShifted(float[] x, int off, int n, float max) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i + FL <= n; i += FL) {
            FloatVector e = VecMath.exp(FloatVector.fromArray(F, x, off + i).sub(max));
            e.intoArray(x, off + i);
            acc = acc.add(e);
        }
        if (i < n) {
            // The tail as one masked vector: up to FL − 1 scalar Math.exp calls per row cost attention over a
            // short context (a prompt batch of stories260K) a quarter of its time.
            VectorMask<Float> m = LANE_INDEX.lt((float) (n - i));   // a compare: indexInRange compiled to a slow fallback here
            FloatVector e = VecMath.exp(FloatVector.fromArray(F, x, off + i, m).sub(max));
            e.intoArray(x, off + i, m);
            acc = acc.add(e, m);
        }
        return VecMath.sum(acc);
    }

    /** dst[dOff..+n) += w * src[sOff..+n). */
    static void axpy(float w, float[] src, int sOff, float[] dst, int dOff, int n) {
        int i = 0;
        for (; i + FL <= n; i += FL) {
            FloatVector.fromArray(F, src, sOff + i).fma(FloatVector.broadcast(F, w), FloatVector.fromArray(F, dst, dOff + i)).intoArray(dst, dOff + i);
        }
        for (; i < n; i++) dst[dOff + i] += w * src[sOff + i];
    }
}
