package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;

import static dev.panllama.cpu.VecMath.F;
import static dev.panllama.cpu.VecMath.FL;

/**
 * The float micro-kernels of the batched product, in outer-product form: a decoded k-chunk of weight
 * rows against a panel of {@link #NT} tokens whose activations are packed column by column
 * ({@link #pack}: {@code xp[(p * k + j) * NT + tt]} is token {@code p * NT + tt}, column j), so that
 * one vector holds FL tokens of the same column. Each step broadcasts one weight per row and
 * multiplies it into the vectors of the panel: 6 rows × 2 vectors are 12 independent accumulators (FMA
 * latency × throughput is 8 on the cores we target) for 6 broadcast and 2 vector loads, so FMAs, not
 * loads, bound the loop. Every output is a plain fma chain over j in increasing order — no horizontal
 * sums, and the result does not depend on how rows or tokens are split.
 *
 * <p>Partial sums across k-chunks live in {@code acc[r * tp + t]} (tp: tokens rounded up to NT).
 */
final class GemmTile {
    private GemmTile() {}

    /** Tokens per packed panel: two vectors. */
    static final int NT = 2 * FL;
    /** Rows of the main micro-kernel. */
    static final int MR = 6;

    /** Tokens rounded up to whole panels. */
    static int paddedTokens(int tokens) {
        return (tokens + NT - 1) / NT * NT;
    }

    /** Packs panel p of x (tokens × k, row-major) into xp; tokens past the last are zeros. */
    static void pack(float[] x, int tokens, int k, int p, float[] xp) {
        int base = p * k * NT;
        for (int tt = 0; tt < NT; tt++) {
            int t = p * NT + tt;
            if (t < tokens) {
                int xo = t * k;
                for (int j = 0; j < k; j++) xp[base + j * NT + tt] = x[xo + j];
            } else {
                for (int j = 0; j < k; j++) xp[base + j * NT + tt] = 0f;
            }
        }
    }

    /**
     * Adds chunk [j0, j0 + kc) of {@code w[r][.] · x[t][.]} for every panel into acc. {@code w} holds
     * the decoded chunk row by row ({@code rows × kc}).
     */
    static void accumulate(float[] w, int rows, int kc, float[] xp, int j0, int k, int panels, float[] acc) {
        int tp = panels * NT;
        for (int p = 0; p < panels; p++) {
            int x0 = (p * k + j0) * NT;
            int r = 0;
            for (; r + MR <= rows; r += MR) tile6(w, r * kc, kc, xp, x0, acc, r * tp + p * NT, tp);
            for (; r + 2 <= rows; r += 2) tile2(w, r * kc, kc, xp, x0, acc, r * tp + p * NT, tp);
            for (; r < rows; r++) tile1(w, r * kc, kc, xp, x0, acc, r * tp + p * NT);
        }
    }

    /** y[t*stride + r0 + r] = acc[r * tp + t] for the real tokens. */
    static void finish(float[] acc, int rows, int tokens, float[] y, int r0, int stride) {
        int tp = paddedTokens(tokens);
        for (int t = 0; t < tokens; t++) {          // contiguous stores into y; acc is in cache
            for (int r = 0; r < rows; r++) y[t * stride + r0 + r] = acc[r * tp + t];
        }
    }

    private static void tile6(float[] w, int w0, int kc, float[] xp, int x0, float[] acc, int a, int tp) {
        int a1 = a + tp, a2 = a + 2 * tp, a3 = a + 3 * tp, a4 = a + 4 * tp, a5 = a + 5 * tp;
        FloatVector c00 = FloatVector.fromArray(F, acc, a), c01 = FloatVector.fromArray(F, acc, a + FL);
        FloatVector c10 = FloatVector.fromArray(F, acc, a1), c11 = FloatVector.fromArray(F, acc, a1 + FL);
        FloatVector c20 = FloatVector.fromArray(F, acc, a2), c21 = FloatVector.fromArray(F, acc, a2 + FL);
        FloatVector c30 = FloatVector.fromArray(F, acc, a3), c31 = FloatVector.fromArray(F, acc, a3 + FL);
        FloatVector c40 = FloatVector.fromArray(F, acc, a4), c41 = FloatVector.fromArray(F, acc, a4 + FL);
        FloatVector c50 = FloatVector.fromArray(F, acc, a5), c51 = FloatVector.fromArray(F, acc, a5 + FL);
        int w1 = w0 + kc, w2 = w0 + 2 * kc, w3 = w0 + 3 * kc, w4 = w0 + 4 * kc, w5 = w0 + 5 * kc;
        for (int j = 0; j < kc; j++) {
            FloatVector u = FloatVector.fromArray(F, xp, x0 + j * NT);
            FloatVector v = FloatVector.fromArray(F, xp, x0 + j * NT + FL);
            FloatVector b = FloatVector.broadcast(F, w[w0 + j]);
            c00 = b.fma(u, c00);
            c01 = b.fma(v, c01);
            b = FloatVector.broadcast(F, w[w1 + j]);
            c10 = b.fma(u, c10);
            c11 = b.fma(v, c11);
            b = FloatVector.broadcast(F, w[w2 + j]);
            c20 = b.fma(u, c20);
            c21 = b.fma(v, c21);
            b = FloatVector.broadcast(F, w[w3 + j]);
            c30 = b.fma(u, c30);
            c31 = b.fma(v, c31);
            b = FloatVector.broadcast(F, w[w4 + j]);
            c40 = b.fma(u, c40);
            c41 = b.fma(v, c41);
            b = FloatVector.broadcast(F, w[w5 + j]);
            c50 = b.fma(u, c50);
            c51 = b.fma(v, c51);
        }
        c00.intoArray(acc, a);
        c01.intoArray(acc, a + FL);
        c10.intoArray(acc, a1);
        c11.intoArray(acc, a1 + FL);
        c20.intoArray(acc, a2);
        c21.intoArray(acc, a2 + FL);
        c30.intoArray(acc, a3);
        c31.intoArray(acc, a3 + FL);
        c40.intoArray(acc, a4);
        c41.intoArray(acc, a4 + FL);
        c50.intoArray(acc, a5);
        c51.intoArray(acc, a5 + FL);
    }

    private static void tile2(float[] w, int w0, int kc, float[] xp, int x0, float[] acc, int a, int tp) {
        int a1 = a + tp;
        FloatVector c00 = FloatVector.fromArray(F, acc, a), c01 = FloatVector.fromArray(F, acc, a + FL);
        FloatVector c10 = FloatVector.fromArray(F, acc, a1), c11 = FloatVector.fromArray(F, acc, a1 + FL);
        int w1 = w0 + kc;
        for (int j = 0; j < kc; j++) {
            FloatVector u = FloatVector.fromArray(F, xp, x0 + j * NT);
            FloatVector v = FloatVector.fromArray(F, xp, x0 + j * NT + FL);
            FloatVector b = FloatVector.broadcast(F, w[w0 + j]);
            c00 = b.fma(u, c00);
            c01 = b.fma(v, c01);
            b = FloatVector.broadcast(F, w[w1 + j]);
            c10 = b.fma(u, c10);
            c11 = b.fma(v, c11);
        }
        c00.intoArray(acc, a);
        c01.intoArray(acc, a + FL);
        c10.intoArray(acc, a1);
        c11.intoArray(acc, a1 + FL);
    }

    private static void tile1(float[] w, int w0, int kc, float[] xp, int x0, float[] acc, int a) {
        FloatVector c0 = FloatVector.fromArray(F, acc, a), c1 = FloatVector.fromArray(F, acc, a + FL);
        for (int j = 0; j < kc; j++) {
            FloatVector b = FloatVector.broadcast(F, w[w0 + j]);
            c0 = b.fma(FloatVector.fromArray(F, xp, x0 + j * NT), c0);
            c1 = b.fma(FloatVector.fromArray(F, xp, x0 + j * NT + FL), c1);
        }
        c0.intoArray(acc, a);
        c1.intoArray(acc, a + FL);
    }
}
