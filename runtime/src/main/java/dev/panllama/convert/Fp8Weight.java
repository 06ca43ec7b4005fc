package dev.panllama.convert;

import java.lang.foreign.MemorySegment;

/**
 * The E4M3 bytes of an FP8 weight in GGUF row order and its scales, for writing an FP8 GGUF without
 * decoding. Rows may have been permuted (llama's q/k) or stacked (experts) on the way.
 *
 * @param bytes      copies GGUF row r (ne0 bytes) to a destination
 * @param scales     the scales, indexed by source rows
 * @param sourceRow  the source row that GGUF row r (within one expert) was taken from
 */
public record Fp8Weight(RowCopier bytes, ScaleGrid scales, java.util.function.LongUnaryOperator sourceRow) {

    /** Copies one row of E4M3 bytes. */
    @FunctionalInterface
    public interface RowCopier {
        void copy(long row, MemorySegment dst, long dstOffset);
    }

    /**
     * The scales in GGUF row order. A permutation keeps a block-scaled weight's grid when every row stays
     * in its tile (llama's q/k heads lie inside 128-row tiles); per-row scales move with their rows.
     */
    public ScaleGrid outputScales(String name) {
        ScaleGrid g = scales;
        long rows = g.rows();
        boolean identity = true;
        for (long r = 0; r < rows && identity; r++) identity = sourceRow.applyAsLong(r) == r;
        if (identity) return g;
        if (g.tileRows() == 1) {
            float[] v = new float[g.values().length];
            long cols = g.colTiles();
            for (long e = 0; e < g.experts(); e++) {
                for (long r = 0; r < rows; r++) {
                    long src = sourceRow.applyAsLong(r);
                    System.arraycopy(g.values(), (int) ((e * rows + src) * cols), v, (int) ((e * rows + r) * cols), (int) cols);
                }
            }
            return new ScaleGrid(v, g.experts(), rows, g.cols(), 1, g.tileCols());
        }
        for (long r = 0; r < rows; r++) {
            if (!g.sameRowTile(r, sourceRow.applyAsLong(r))) {
                throw new IllegalArgumentException(name + ": the q/k row permutation moves rows across " + g.tileRows()
                        + "-row scale tiles, so the weight cannot stay FP8; choose another --outtype");
            }
        }
        return g;
    }
}
