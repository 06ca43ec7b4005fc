package dev.panllama.cpu;

import dev.panllama.backend.AttentionKernel;
import dev.panllama.backend.Kernels;
import dev.panllama.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.VecMath.F;
import static dev.panllama.cpu.VecMath.FL;

/**
 * The Vector API kernels. Matrix products take one of two paths by batch size:
 * <ul>
 *   <li>few tokens (generation): activations are converted once to the weight type's dot format (for
 *   quantized types 8-bit, as ggml does) and every row is dotted straight from the mapped file —
 *   memory-bound, so the work is spread over rows;</li>
 *   <li>a prompt batch: each thread decodes a few rows to float once and multiplies them against all
 *   tokens with a register-blocked FMA tile — compute-bound, so decoding is amortised over the batch.</li>
 * </ul>
 */
final class CpuKernels implements Kernels {
    /** From this many tokens on, the decoded-float path beats per-token integer dots. */
    static final int BATCH_PATH_MIN_TOKENS = 16;
    private static final int TILE_ROWS = 16;

    private final WorkerPool pool;
    private final KernelTable table = new KernelTable();
    private final Activations activations = new Activations();
    private final ThreadLocal<float[]> tileBuffer = ThreadLocal.withInitial(() -> new float[0]);
    private final CpuAttention attention;

    CpuKernels(int threads) {
        this.pool = new WorkerPool(threads);
        this.attention = new CpuAttention(pool, table);
    }

    @Override
    public String description() {
        return "CPU (Vector API " + F.vectorBitSize() + "-bit, " + pool.threads() + " thread" + (pool.threads() > 1 ? "s" : "") + ")";
    }

    @Override
    public int threads() { return pool.threads(); }

    @Override
    public void matmul(Tensor w, long rowStart, int rowCount, float[] x, float[] y, int tokens) {
        RowKernel kernel = table.forType(w.type());
        int k = Math.toIntExact(w.rowLength());
        if (rowStart < 0 || rowStart + rowCount > w.rows()) {
            throw new IllegalArgumentException("rows [" + rowStart + ", +" + rowCount + ") outside " + w);
        }
        Activations a = activations;
        a.prepare(kernel.activation(), x, tokens, k, pool);
        if (tokens >= BATCH_PATH_MIN_TOKENS) {
            batched(kernel, w, rowStart, rowCount, k, a.floats(), y, tokens);
            return;
        }
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        int chunk = chunkRows(rowCount, k);
        int chunks = (rowCount + chunk - 1) / chunk;
        pool.parallelFor(chunks, c -> {
            int r1 = Math.min(rowCount, (c + 1) * chunk);
            for (int r = c * chunk; r < r1; r++) kernel.dotTokens(seg, (rowStart + r) * rowBytes, a, y, r, rowCount);
        });
    }

    /** Rows per work item: several per thread for balance, but not so few that scheduling dominates. */
    private int chunkRows(int rows, int k) {
        int minRows = Math.max(1, 8192 / Math.max(1, k));
        int target = Math.max(minRows, rows / (pool.threads() * 8));
        return Math.min(rows, target);
    }

    private void batched(RowKernel kernel, Tensor w, long rowStart, int rowCount, int k, float[] x, float[] y, int tokens) {
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        int tiles = (rowCount + TILE_ROWS - 1) / TILE_ROWS;
        pool.parallelFor(tiles, c -> {
            int r0 = c * TILE_ROWS;
            int rows = Math.min(TILE_ROWS, rowCount - r0);
            float[] buf = tileBuffer.get();
            if (buf.length < TILE_ROWS * k) {
                buf = new float[TILE_ROWS * k];
                tileBuffer.set(buf);
            }
            for (int r = 0; r < rows; r++) kernel.dequantize(seg, (rowStart + r0 + r) * rowBytes, buf, r * k, k);
            multiplyTile(buf, rows, k, x, tokens, y, r0, rowCount);
        });
    }

    /** y[t*stride + r0 + r] = Σ_j w[r][j]·x[t][j] for the decoded tile rows, 4 rows × 2 tokens at a time. */
    static void multiplyTile(float[] w, int rows, int k, float[] x, int tokens, float[] y, int r0, int stride) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            int t = 0;
            for (; t + 2 <= tokens; t += 2) tile4x2(w, r * k, k, x, t * k, (t + 1) * k, y, t * stride + r0 + r, (t + 1) * stride + r0 + r);
            for (; t < tokens; t++) {
                for (int i = 0; i < 4; i++) y[t * stride + r0 + r + i] = VecMath.dot(w, (r + i) * k, x, t * k, k);
            }
        }
        for (; r < rows; r++) {
            for (int t = 0; t < tokens; t++) y[t * stride + r0 + r] = VecMath.dot(w, r * k, x, t * k, k);
        }
    }

    private static void tile4x2(float[] w, int w0, int k, float[] x, int xa, int xb, float[] y, int ya, int yb) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int j = 0;
        for (; j + FL <= k; j += FL) {
            FloatVector u = FloatVector.fromArray(F, x, xa + j);
            FloatVector v = FloatVector.fromArray(F, x, xb + j);
            FloatVector w_0 = FloatVector.fromArray(F, w, w0 + j);
            FloatVector w_1 = FloatVector.fromArray(F, w, w0 + k + j);
            FloatVector w_2 = FloatVector.fromArray(F, w, w0 + 2 * k + j);
            FloatVector w_3 = FloatVector.fromArray(F, w, w0 + 3 * k + j);
            a0 = w_0.fma(u, a0);
            a1 = w_1.fma(u, a1);
            a2 = w_2.fma(u, a2);
            a3 = w_3.fma(u, a3);
            b0 = w_0.fma(v, b0);
            b1 = w_1.fma(v, b1);
            b2 = w_2.fma(v, b2);
            b3 = w_3.fma(v, b3);
        }
        float s0 = VecMath.sum(a0), s1 = VecMath.sum(a1);
        float s2 = VecMath.sum(a2), s3 = VecMath.sum(a3);
        float t0 = VecMath.sum(b0), t1 = VecMath.sum(b1);
        float t2 = VecMath.sum(b2), t3 = VecMath.sum(b3);
        for (; j < k; j++) {
            s0 += w[w0 + j] * x[xa + j];
            s1 += w[w0 + k + j] * x[xa + j];
            s2 += w[w0 + 2 * k + j] * x[xa + j];
            s3 += w[w0 + 3 * k + j] * x[xa + j];
            t0 += w[w0 + j] * x[xb + j];
            t1 += w[w0 + k + j] * x[xb + j];
            t2 += w[w0 + 2 * k + j] * x[xb + j];
            t3 += w[w0 + 3 * k + j] * x[xb + j];
        }
        y[ya] = s0;
        y[ya + 1] = s1;
        y[ya + 2] = s2;
        y[ya + 3] = s3;
        y[yb] = t0;
        y[yb + 1] = t1;
        y[yb + 2] = t2;
        y[yb + 3] = t3;
    }

    @Override
    public void rmsnorm(float[] x, float[] weight, float[] out, int tokens, int dim, float eps) {
        VectorOps.rmsnorm(x, weight, out, tokens, dim, eps);
    }

    @Override
    public void swiglu(float[] gate, float[] up, int n) {
        VectorOps.swiglu(gate, up, n);
    }

    @Override
    public void add(float[] x, float[] y, int n) {
        VectorOps.add(x, y, n);
    }

    @Override
    public void attention(AttentionKernel.Job job) {
        attention.run(job);
    }

    @Override
    public void close() {
        pool.close();
    }
}
