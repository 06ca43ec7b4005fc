package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;

import static dev.panllama.cpu.VecMath.F;
import static dev.panllama.cpu.VecMath.FL;

/**
 * The float micro-kernel of the batched product: a decoded k-chunk of weight rows against the same
 * columns of every token. Register-blocked 4 rows × 2 tokens (4 weight and 2 activation loads for 8
 * FMAs). Partial sums stay vectors across chunks, in {@code acc[(r * tokens + t) * FL ..]}, and are
 * reduced once per (row, token) by {@link #finish}: reducing per chunk would cost as much as the FMAs.
 */
final class GemmTile {
    private GemmTile() {}

    /**
     * Adds chunk [j0, j0 + kc) of {@code w[r][.] · x[t][.]} into the vector accumulators. Columns past the
     * last whole vector are added in scalar into lane 0 (the lanes are summed in the end anyway).
     */
    static void accumulate(float[] w, int rows, int kc, float[] x, int j0, int k, int tokens, float[] acc) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            int t = 0;
            for (; t + 2 <= tokens; t += 2) tile4x2(w, r * kc, kc, x, t * k + j0, (t + 1) * k + j0, acc, r, t, tokens);
            for (; t < tokens; t++) {
                for (int i = 0; i < 4; i++) tile1x1(w, (r + i) * kc, kc, x, t * k + j0, acc, ((r + i) * tokens + t) * FL);
            }
        }
        for (; r < rows; r++) {
            for (int t = 0; t < tokens; t++) tile1x1(w, r * kc, kc, x, t * k + j0, acc, (r * tokens + t) * FL);
        }
    }

    /** y[t*stride + r0 + r] = the lane sum of the accumulator of (r, t). */
    static void finish(float[] acc, int rows, int tokens, float[] y, int r0, int stride) {
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < tokens; t++) {
                y[t * stride + r0 + r] = VecMath.sum(FloatVector.fromArray(F, acc, (r * tokens + t) * FL));
            }
        }
    }

    private static void tile1x1(float[] w, int w0, int kc, float[] x, int x0, float[] acc, int a) {
        FloatVector s = FloatVector.fromArray(F, acc, a);
        int body = kc - kc % FL;
        for (int j = 0; j < body; j += FL) s = FloatVector.fromArray(F, w, w0 + j).fma(FloatVector.fromArray(F, x, x0 + j), s);
        s.intoArray(acc, a);
        for (int j = body; j < kc; j++) acc[a] += w[w0 + j] * x[x0 + j];
    }

    private static void tile4x2(float[] w, int w0, int kc, float[] x, int xa, int xb, float[] acc, int r, int t, int tokens) {
        int p0 = (r * tokens + t) * FL, p1 = ((r + 1) * tokens + t) * FL, p2 = ((r + 2) * tokens + t) * FL, p3 = ((r + 3) * tokens + t) * FL;
        FloatVector a0 = FloatVector.fromArray(F, acc, p0), a1 = FloatVector.fromArray(F, acc, p1);
        FloatVector a2 = FloatVector.fromArray(F, acc, p2), a3 = FloatVector.fromArray(F, acc, p3);
        FloatVector b0 = FloatVector.fromArray(F, acc, p0 + FL), b1 = FloatVector.fromArray(F, acc, p1 + FL);
        FloatVector b2 = FloatVector.fromArray(F, acc, p2 + FL), b3 = FloatVector.fromArray(F, acc, p3 + FL);
        int w1 = w0 + kc, w2 = w0 + 2 * kc, w3 = w0 + 3 * kc;
        int body = kc - kc % FL;
        for (int j = 0; j < body; j += FL) {
            FloatVector u = FloatVector.fromArray(F, x, xa + j);
            FloatVector v = FloatVector.fromArray(F, x, xb + j);
            FloatVector q0 = FloatVector.fromArray(F, w, w0 + j);
            FloatVector q1 = FloatVector.fromArray(F, w, w1 + j);
            FloatVector q2 = FloatVector.fromArray(F, w, w2 + j);
            FloatVector q3 = FloatVector.fromArray(F, w, w3 + j);
            a0 = q0.fma(u, a0);
            a1 = q1.fma(u, a1);
            a2 = q2.fma(u, a2);
            a3 = q3.fma(u, a3);
            b0 = q0.fma(v, b0);
            b1 = q1.fma(v, b1);
            b2 = q2.fma(v, b2);
            b3 = q3.fma(v, b3);
        }
        a0.intoArray(acc, p0);
        a1.intoArray(acc, p1);
        a2.intoArray(acc, p2);
        a3.intoArray(acc, p3);
        b0.intoArray(acc, p0 + FL);
        b1.intoArray(acc, p1 + FL);
        b2.intoArray(acc, p2 + FL);
        b3.intoArray(acc, p3 + FL);
        for (int j = body; j < kc; j++) {
            float u = x[xa + j], v = x[xb + j];
            acc[p0] += w[w0 + j] * u;
            acc[p1] += w[w1 + j] * u;
            acc[p2] += w[w2 + j] * u;
            acc[p3] += w[w3 + j] * u;
            acc[p0 + FL] += w[w0 + j] * v;
            acc[p1 + FL] += w[w1 + j] * v;
            acc[p2 + FL] += w[w2 + j] * v;
            acc[p3 + FL] += w[w3 + j] * v;
        }
    }
}
