package dev.panllama.tensor.codec;

import dev.panllama.tensor.codec.BlockCodec;
import java.lang.foreign.MemorySegment;

/**
 * The codec of a row-interleaved type (ik_llama.cpp's _R4 and _R8 types): {@link #rows()} consecutive
 * rows of a tensor form a group whose blocks are stored column by column, the R blocks of one block
 * column merged into one (R times the type size) with their fields interleaved. A file sizes such a
 * tensor like the plain type, row by row, but no single row occupies a byte range of its own: a row is
 * addressed as (group offset, index in the group).
 *
 * <p>{@link #dequantize} and {@link #quantize} convert a whole group, as ik_llama.cpp's to_float and
 * from_float do for these types: {@code n = rows() * rowLength} values, the group's rows one after the
 * other, and {@code offset} at the group's start. So does {@link #quantizeRow}, whose importance (one
 * value per column) applies to each of the group's rows.
 */
public interface RowGroupCodec extends BlockCodec {

    /** Rows per group: 4 or 8. */
    int rows();

    /** Decodes row {@code row} (0 .. rows()-1) of the group at {@code groupOffset}: n values. */
    void dequantizeRow(MemorySegment src, long groupOffset, int row, float[] dst, int dstOff, int n);

    @Override
    default void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int perRow = rowLength(n);
        for (int r = 0; r < rows(); r++) dequantizeRow(src, offset, r, dst, dstOff + r * perRow, perRow);
    }

    /** The row length of a group of n values; fails when n is not a whole number of rows. */
    default int rowLength(int n) {
        if (n < 0 || n % rows() != 0) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " converts groups of " + rows()
                    + " interleaved rows; " + n + " values are not a whole group");
        }
        return n / rows();
    }
}
