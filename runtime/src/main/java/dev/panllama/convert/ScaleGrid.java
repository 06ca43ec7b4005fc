package dev.panllama.convert;

/**
 * The scales of an FP8 weight: a grid over (expert, row, column) in which every tile of
 * {@code tileRows x tileCols} weights shares one multiplier, {@code w = fp8 * scale}. The three layouts
 * checkpoints use are all grids: DeepSeek's 128x128 blocks ({@code weight_scale_inv}
 * {@code [ceil(out/128), ceil(in/128)]}), one scale per tensor and one per output row
 * ({@code weight_scale} {@code []} or {@code [out, 1]}).
 *
 * @param values  the scales, expert-major, then row tiles, then column tiles
 */
public record ScaleGrid(float[] values, long experts, long rows, long cols, int tileRows, int tileCols) {

    public ScaleGrid {
        long n = Math.multiplyExact(Math.multiplyExact(experts, tileCount(rows, tileRows)), tileCount(cols, tileCols));
        if (values.length != n) {
            throw new IllegalArgumentException(values.length + " scales for " + experts + " x " + rows + " x " + cols
                    + " weights in tiles of " + tileRows + " x " + tileCols + " (need " + n + ")");
        }
    }

    /** Scale 1 everywhere: an FP8 weight stored without scales. */
    public static ScaleGrid unit(long experts, long rows, long cols) {
        float[] ones = new float[Math.toIntExact(experts)];
        java.util.Arrays.fill(ones, 1f);
        return new ScaleGrid(ones, experts, rows, cols, Math.toIntExact(Math.max(rows, 1)), Math.toIntExact(Math.max(cols, 1)));
    }

    /**
     * The tile size along a dimension of {@code extent} weights that has {@code count} scales: the whole
     * extent for one scale, 1 for one scale per weight, else the block size of the quantization config
     * (0 when there is none), which must give exactly {@code count} tiles. The three cases never
     * disagree where they overlap, so the answer is unambiguous.
     */
    public static int tile(long extent, long count, int block, String what) {
        if (count == 1) return Math.toIntExact(Math.max(extent, 1));
        if (count == extent) return 1;
        if (block > 0 && tileCount(extent, block) == count) return block;
        throw new IllegalArgumentException(what + ": " + count + " scales along a dimension of " + extent
                + (block > 0 ? " match neither one per tensor, one per row nor blocks of " + block
                : " match neither one per tensor nor one per row, and the config gives no weight_block_size"));
    }

    static long tileCount(long extent, long tile) {
        return (extent + tile - 1) / tile;
    }

    public long rowTiles() { return tileCount(rows, tileRows); }

    public long colTiles() { return tileCount(cols, tileCols); }

    /** The scale of weight (row, col) of an expert. */
    public float at(long expert, long row, long col) {
        return values[(int) ((expert * rowTiles() + row / tileRows) * colTiles() + col / tileCols)];
    }

    /** Multiplies one row of decoded FP8 values by its scales, tile by tile (float products, as torch's). */
    public void applyToRow(long expert, long row, float[] x) {
        int base = (int) ((expert * rowTiles() + row / tileRows) * colTiles());
        for (int c0 = 0, t = 0; c0 < x.length; c0 += tileCols, t++) {
            float s = values[base + t];
            int end = (int) Math.min(x.length, (long) c0 + tileCols);
            for (int c = c0; c < end; c++) x[c] *= s;
        }
    }

    /** Whether output row {@code r} and the source row it is read from always share their scales. */
    boolean sameRowTile(long r, long source) {
        return r / tileRows == source / tileRows;
    }
}
