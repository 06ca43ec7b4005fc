package dev.panllama.cpu;

import dev.panllama.backend.AttentionKernel;
import dev.panllama.backend.ExpertPairs;
import dev.panllama.backend.Kernels;
import dev.panllama.tensor.Tensor;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.VecMath.F;

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
    /** Rows per tile of the batched path; a multiple of every interleaved group size (4, 8) and of GemmTile.MR. */
    private static final int TILE_ROWS = 48;

    private final WorkerPool pool;
    private final KernelTable table = new KernelTable();
    private final Activations activations = new Activations();
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);
    /** The batched path's packed activations (matmul calls are serialised by the caller). */
    private float[] packed = new float[0];
    private final CpuAttention attention;

    CpuKernels(int threads) {
        this(threads, threads);
    }

    /** {@code threads} for a token's work (-t), {@code batchThreads} for a batch's (-tb). */
    CpuKernels(int threads, int batchThreads) {
        this.pool = new WorkerPool(threads, batchThreads);
        this.attention = new CpuAttention(pool, table);
    }

    @Override
    public String description() {
        // Fewer preferred bits than the kernels' species: the JVM emulates those vectors (see VecMath.kernelSpecies).
        String emulated = FloatVector.SPECIES_PREFERRED.vectorBitSize() < F.vectorBitSize() ? " (emulated: slow)" : "";
        // Narrower than the quantized kernels' 256 bits: quantized rows are decoded, then dotted (see KernelTable).
        String decoded = table.decodesQuantizedRows() ? " (quantized rows decoded: slow)" : "";
        return "Vector API " + F.vectorBitSize() + "-bit" + emulated + decoded + ", " + pool.describe();
    }

    @Override
    public int threads() { return pool.threads(1); }

    @Override
    public void matmul(Tensor w, long rowStart, int rowCount, float[] x, float[] y, int tokens) {
        WeightKernel kernel = table.forType(w.type());
        int k = Math.toIntExact(w.rowLength());
        if (rowStart < 0 || rowStart + rowCount > w.rows()) {
            throw new IllegalArgumentException("rows [" + rowStart + ", +" + rowCount + ") outside " + w);
        }
        int unit = kernel.rows();
        if (rowStart % unit != 0 || rowCount % unit != 0) {
            throw new IllegalArgumentException("rows [" + rowStart + ", +" + rowCount + ") of " + w
                    + " split its interleaved groups of " + unit + " rows");
        }
        Activations a = activations;
        a.prepare(kernel.activation(), x, tokens, k, tokens >= BATCH_PATH_MIN_TOKENS || kernel instanceof CodecRowKernel, pool, tokens);
        if (tokens >= BATCH_PATH_MIN_TOKENS) {
            batched(kernel, w, rowStart, rowCount, k, a.floats(), y, tokens);
            return;
        }
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        int chunk = chunkRows(rowCount, k, unit, tokens);
        int chunks = (rowCount + chunk - 1) / chunk;
        pool.parallelFor(tokens, chunks, (long) rowCount * k * tokens, c -> {
            int r1 = Math.min(rowCount, (c + 1) * chunk);
            for (int r = c * chunk; r < r1; r += unit) {
                long off = (rowStart + r) * rowBytes;
                MappedPages.touch(seg, off, off + unit * rowBytes);
                kernel.dotTokens(seg, off, a, y, r, rowCount);
            }
        });
    }

    /**
     * Few tokens: the activations of every (token, head) are prepared once and one parallel loop covers
     * all heads' rows (a loop per head would pay a hand-off to the workers per head, 128 per layer on
     * DeepSeek-V3). A prompt batch takes the batched path head by head.
     */
    @Override
    public void matmulHeads(Tensor w, long rowStart, long headStride, int rows, int heads, float[] x, float[] y, int tokens) {
        if (tokens >= BATCH_PATH_MIN_TOKENS) {
            Kernels.super.matmulHeads(w, rowStart, headStride, rows, heads, x, y, tokens);
            return;
        }
        WeightKernel wk = table.forType(w.type());
        if (!(wk instanceof RowKernel kernel)) {      // interleaved row groups: head slices need whole groups
            Kernels.super.matmulHeads(w, rowStart, headStride, rows, heads, x, y, tokens);
            return;
        }
        int k = Math.toIntExact(w.rowLength());
        if (rowStart < 0 || rowStart + (heads - 1) * headStride + rows > w.rows()) {
            throw new IllegalArgumentException(heads + " heads of rows [" + rowStart + ", +" + rows + ") every " + headStride + " outside " + w);
        }
        Activations a = activations;
        a.prepare(kernel.activation(), x, tokens * heads, k, kernel instanceof CodecRowKernel, pool, tokens);
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        int chunk = chunkRows(rows, k, 1, tokens);
        int perHead = (rows + chunk - 1) / chunk;
        pool.parallelFor(tokens, heads * perHead, (long) heads * rows * k * tokens, c -> {
            int h = c / perHead;
            int r0 = (c % perHead) * chunk, r1 = Math.min(rows, r0 + chunk);
            long headOff = (rowStart + h * headStride) * rowBytes;
            for (int r = r0; r < r1; r++) {
                long off = headOff + r * rowBytes;
                MappedPages.touch(seg, off, off + rowBytes);
                for (int t = 0; t < tokens; t++) y[(t * heads + h) * rows + r] = kernel.dot(seg, off, a, t * heads + h);
            }
        });
    }

    /**
     * Experts with at least {@link #BATCH_PATH_MIN_TOKENS} inputs take the batched path one expert at a
     * time, as the default does; all other pairs run as one parallel loop over (expert, row chunk), each
     * row dotted with all of its expert's inputs while it is in cache. So generation hands the workers one
     * loop for a layer's chosen experts instead of one per expert (8 for Qwen3-MoE and DeepSeek-V3).
     */
    @Override
    public void matmulExperts(Tensor w, int rows, int[] expert, int[] input, int pairs, float[] x, int inputs, float[] y) {
        WeightKernel wk = table.forType(w.type());
        if (!(wk instanceof RowKernel kernel)) {      // interleaved row groups: the per-expert matmuls handle them
            Kernels.super.matmulExperts(w, rows, expert, input, pairs, x, inputs, y);
            return;
        }
        int k = Math.toIntExact(w.rowLength());
        ExpertPairs groups = ExpertPairs.of(w, rows, expert, input, pairs, inputs);
        int[] small = new int[groups.groups()];
        int n = 0;
        for (int g = 0; g < groups.groups(); g++) {
            if (groups.size(g) >= BATCH_PATH_MIN_TOKENS) groups.matmulGroup(this, w, rows, g, x, y);
            else small[n++] = g;
        }
        if (n == 0) return;
        Activations a = activations;
        a.prepare(kernel.activation(), x, inputs, k, kernel instanceof CodecRowKernel, pool, inputs);
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        int chunk = chunkRows(rows, k, 1, inputs);
        int perGroup = (rows + chunk - 1) / chunk;
        pool.parallelFor(inputs, n * perGroup, (long) pairs * rows * k, c -> {
            int g = small[c / perGroup];
            int r0 = (c % perGroup) * chunk, r1 = Math.min(rows, r0 + chunk);
            long base = (long) groups.expert(g) * rows;
            for (int r = r0; r < r1; r++) {
                long off = (base + r) * rowBytes;
                MappedPages.touch(seg, off, off + rowBytes);
                for (int i = groups.start(g); i < groups.end(g); i++) {
                    int p = groups.pair(i);
                    y[p * rows + r] = kernel.dot(seg, off, a, groups.input(p));
                }
            }
        });
    }

    /**
     * Rows per work item: several per thread for balance, but not so few that scheduling dominates; a
     * whole number of the kernel's units.
     */
    private int chunkRows(int rows, int k, int unit, int tokens) {
        int minRows = Math.max(1, 8192 / Math.max(1, k));
        int target = Math.max(minRows, rows / (pool.threads(tokens) * 8));
        return Math.min(rows, (target + unit - 1) / unit * unit);
    }

    /**
     * The prompt-batch product, blocked for the caches. The activations are first packed into panels of
     * {@link GemmTile#NT} tokens, column-major within a panel. Each work item is a tile of TILE_ROWS rows;
     * the tile is decoded to float about 256 columns at a time (48 KiB, stays in L2) and multiplied against
     * every panel's slice of the same columns (16 KiB, stays in L1 while all the tile's rows pass over it),
     * accumulating into per-thread sums. So each weight is decoded once per batch.
     */
    private void batched(WeightKernel kernel, Tensor w, long rowStart, int rowCount, int k, float[] x, float[] y, int tokens) {
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        int panels = (tokens + GemmTile.NT - 1) / GemmTile.NT;
        int tp = panels * GemmTile.NT;
        if (packed.length < tp * k) packed = new float[tp * k];
        float[] xp = packed;
        pool.parallelFor(tokens, panels, (long) tokens * k, p -> GemmTile.pack(x, tokens, k, p, xp));
        int tiles = (rowCount + TILE_ROWS - 1) / TILE_ROWS;
        int chunk = kChunk(w, k);
        int unit = kernel.rows();          // divides TILE_ROWS and rowCount, so tiles hold whole units
        pool.parallelFor(tokens, tiles, (long) rowCount * k * tokens, c -> {
            int r0 = c * TILE_ROWS;
            int rows = Math.min(TILE_ROWS, rowCount - r0);
            Scratch s = scratch.get().ensure(TILE_ROWS * chunk, TILE_ROWS * tp);
            MappedPages.touch(seg, (rowStart + r0) * rowBytes, (rowStart + r0 + rows) * rowBytes);
            java.util.Arrays.fill(s.acc, 0, rows * tp, 0f);
            for (int j0 = 0; j0 < k; j0 += chunk) {
                int kc = Math.min(chunk, k - j0);
                // Blocks before column j0 (types with row metadata decode whole rows, j0 = 0); a unit of
                // interleaved rows stores its block columns one after the other, each unit-rows wide.
                long colBytes = (long) unit * (j0 / w.type().blockSize()) * w.type().typeSize();
                for (int r = 0; r < rows; r += unit) kernel.dequantize(seg, (rowStart + r0 + r) * rowBytes + colBytes, s.tile, r * kc, kc);
                GemmTile.accumulate(s.tile, rows, kc, xp, j0, k, panels, s.acc);
            }
            GemmTile.finish(s.acc, rows, tokens, y, r0, rowCount);
        });
    }

    /** Per-thread buffers of the batched path: the decoded tile and the sums per (row, token). */
    private static final class Scratch {
        float[] tile = new float[0];
        float[] acc = new float[0];

        Scratch ensure(int tileFloats, int accFloats) {
            if (tile.length < tileFloats) tile = new float[tileFloats];
            if (acc.length < accFloats) acc = new float[accFloats];
            return this;
        }
    }

    /** Columns decoded per step: about 256 floats per row (a 48-row tile of 48 KiB), whole blocks of the type. */
    private static int kChunk(Tensor w, int k) {
        int block = w.type().blockSize();
        if (w.type().rowMetaSize() != 0 || k <= 256) return k;     // per-row metadata: decode whole rows
        return Math.min(k, Math.max(block, (256 / block) * block));
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
