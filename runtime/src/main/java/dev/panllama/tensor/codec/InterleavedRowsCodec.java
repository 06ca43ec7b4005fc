package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;

/**
 * ik_llama.cpp's interleaved types (_R4, _R8): a group of rows stored block by block, each group block
 * holding the same block of every row, starting with the rows' F16 scales d[rows]. Quantization is
 * ik_llama.cpp's: each row in the plain type, then the blocks repacked (iqk_quantize.cpp's repack_*).
 * The loops over blocks and rows live here; a type says how one row's block decodes and repacks.
 */
abstract class InterleavedRowsCodec implements RowGroupCodec {
    private final String name;
    private final int rows;
    private final int blockSize;
    final int blockBytes;
    private final BlockCodec plain;
    private final int plainBlockBytes;
    private final boolean passesImportance;

    /**
     * @param passesImportance whether an importance matrix reaches the plain quantizer (ik_llama.cpp
     *                         hands it on for the IQ*_K_R4 types, not for Q4_0_R8, Q8_0_R8, IQ4_K_R4)
     */
    InterleavedRowsCodec(String name, int rows, int blockSize, int blockBytes, BlockCodec plain, int plainBlockBytes,
                         boolean passesImportance) {
        this.name = name;
        this.rows = rows;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.plain = plain;
        this.plainBlockBytes = plainBlockBytes;
        this.passesImportance = passesImportance;
    }

    /** Decodes row {@code row}'s values of the group block at {@code src[block..]}, whose scale for that row is d. */
    abstract void decodeBlock(MemorySegment src, long block, int row, float d, float[] dst, int out);

    /**
     * Writes row k's block, in the plain type at {@code plainRows[plain..]}, into the group block {@code out}
     * (zeroed first; the rows' scales are already in place).
     */
    abstract void repackBlock(MemorySegment plainRows, long plain, int k, byte[] out);

    @Override
    public final int rows() { return rows; }

    @Override
    public final void dequantizeRow(MemorySegment src, long groupOffset, int row, float[] dst, int dstOff, int n) {
        int nb = blocks(name, n, blockSize);
        for (int b = 0; b < nb; b++) {
            long block = groupOffset + (long) b * blockBytes;
            decodeBlock(src, block, row, half(src, block + 2L * row), dst, dstOff + b * blockSize);
        }
    }

    @Override
    public final void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        quantizeRow(src, srcOff, null, 0, dst, offset, n);
    }

    @Override
    public final void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        int perRow = rowLength(n);
        int nb = blocks(name, perRow, blockSize);
        long rowBytes = (long) nb * plainBlockBytes;
        MemorySegment plainRows = MemorySegment.ofArray(new byte[Math.toIntExact(rows * rowBytes)]);
        for (int k = 0; k < rows; k++) {
            plain.quantizeRow(src, srcOff + k * perRow, passesImportance ? importance : null, impOff, plainRows, k * rowBytes, perRow);
        }
        byte[] out = new byte[blockBytes];
        for (int b = 0; b < nb; b++) {
            Arrays.fill(out, (byte) 0);
            for (int k = 0; k < rows; k++) {
                long at = k * rowBytes + (long) b * plainBlockBytes;
                MemorySegment.copy(plainRows, ValueLayout.JAVA_BYTE, at, out, 2 * k, 2);   // d
                repackBlock(plainRows, at, k, out);
            }
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, offset + (long) b * blockBytes, blockBytes);
        }
    }

    @Override
    public final boolean usesImportance() { return passesImportance && plain.usesImportance(); }

    @Override
    public final boolean canQuantize() { return true; }
}
