package dev.panllama.gpu;

import java.util.ArrayList;
import java.util.List;

/**
 * A kernel launch's grid and block, as gpu/KERNELS.md fixes them for each kernel. No launch uses a grid
 * dimension above 65535 in y or z: the dequantize kernels fold rows beyond 65535 into grid.y, and
 * attention over more tokens than that is launched in {@linkplain #attentionChunks chunks}.
 */
record LaunchGeometry(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ) {
    static final int MAX_GRID_YZ = 65535;
    static final int BLOCK = 256;

    LaunchGeometry {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || blockX < 1 || blockY < 1 || blockZ < 1) {
            throw new IllegalArgumentException("empty launch " + gridX + "x" + gridY + "x" + gridZ + " / " + blockX + "x" + blockY + "x" + blockZ);
        }
        if (gridY > MAX_GRID_YZ || gridZ > MAX_GRID_YZ) throw new IllegalArgumentException("grid y/z above " + MAX_GRID_YZ);
        if ((long) blockX * blockY * blockZ > 1024) throw new IllegalArgumentException("more than 1024 threads per block");
    }

    /** {@code mv_<type>}: block (32, 4), one warp per row, grid ceil(rows / 4). */
    static LaunchGeometry matvec(int rows) {
        return new LaunchGeometry(Math.ceilDiv(positive(rows), 4), 1, 1, 32, 4, 1);
    }

    /** {@code dq_<type>_f16}: one block of 256 per row, rows split into grid.y chunks of 65535. */
    static LaunchGeometry dequant(int rows) {
        positive(rows);
        return new LaunchGeometry(Math.min(rows, MAX_GRID_YZ), Math.ceilDiv(rows, MAX_GRID_YZ), 1, BLOCK, 1, 1);
    }

    /** Element-wise kernels (f32_to_f16, swiglu, add): grid ceil(n / 256), block 256. */
    static LaunchGeometry elementwise(int n) {
        return new LaunchGeometry(Math.ceilDiv(positive(n), BLOCK), 1, 1, BLOCK, 1, 1);
    }

    /** Per-row kernels (rmsnorm_f32): one block of 256 per row. */
    static LaunchGeometry perRow(int rows) {
        return new LaunchGeometry(positive(rows), 1, 1, BLOCK, 1, 1);
    }

    /** {@code rope_f32}: one block of 128 per (token, head). */
    static LaunchGeometry rope(int tokens, int heads) {
        return new LaunchGeometry(Math.multiplyExact(positive(tokens), positive(heads)), 1, 1, 128, 1, 1);
    }

    /** {@code attention_f32} over at most 65535 tokens: grid (nHead, tokens), block 128. */
    static LaunchGeometry attention(int nHead, int tokens) {
        return new LaunchGeometry(positive(nHead), positive(tokens), 1, 128, 1, 1);
    }

    /** A run of tokens {@code [first, first + count)} of one attention call, launched on its own. */
    record Chunk(int first, int count) {}

    /**
     * How attention over {@code tokens} tokens is launched: token t attends to positions [0, pos0 + t]
     * whatever else is in the launch, so the tokens split into launches of at most 65535 with q, out and
     * pos0 advanced by the chunk's first token.
     */
    static List<Chunk> attentionChunks(int tokens) {
        positive(tokens);
        List<Chunk> out = new ArrayList<>();
        for (int t = 0; t < tokens; t += MAX_GRID_YZ) out.add(new Chunk(t, Math.min(MAX_GRID_YZ, tokens - t)));
        return out;
    }

    private static int positive(int n) {
        if (n <= 0) throw new IllegalArgumentException("a launch over " + n + " items");
        return n;
    }
}
