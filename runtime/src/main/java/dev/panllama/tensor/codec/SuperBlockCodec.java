package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The part every K-quant codec shares: walking n values as 256-element super-blocks, copying each
 * encoded block through a small byte[] so that the per-type code reads and writes plain arrays.
 * Scratch space is allocated once per call, never per block or element, and codecs hold no
 * mutable state, so one instance serves any number of threads.
 */
abstract sealed class SuperBlockCodec implements BlockCodec
        permits Q2KBlockCodec, Q3KBlockCodec, Q45KBlockCodec, Q6KBlockCodec, Q8KBlockCodec {

    /** Working arrays for quantizing one super-block, sized for the largest user (see the codecs). */
    static final class Scratch {
        /** One quant level per element of the super-block. */
        final byte[] levels = new byte[KQuantMath.QK_K];
        /** Candidate levels of one sub-block while searching its scale. */
        final byte[] candidate = new byte[32];
        /** Per-element weights of one sub-block. */
        final float[] weights = new float[32];
        /** Per-sub-block scales and mins before they are themselves quantized. */
        final float[] scales = new float[16];
        final float[] mins = new float[16];
        /** With importance: each sub-block's total weight, and the quantized scales and mins. */
        final float[] subBlockWeights = new float[16];
        final int[] scaleLevels = new int[16];
        final int[] minLevels = new int[16];
    }

    private final String typeName;
    final int blockBytes;

    SuperBlockCodec(String typeName, int blockBytes) {
        this.typeName = typeName;
        this.blockBytes = blockBytes;
    }

    /** Decodes one encoded super-block into {@code dst[dstOff, dstOff + 256)}. */
    abstract void decodeBlock(byte[] block, float[] dst, int dstOff);

    /** Encodes {@code x[xOff, xOff + 256)} into {@code block}, which arrives zeroed. */
    abstract void encodeBlock(float[] x, int xOff, byte[] block, Scratch scratch);

    /**
     * Encodes {@code x[xOff, xOff + 256)} weighing element i by {@code importance[impOff + i]} (ggml's
     * quantize_row_TYPE_impl with quant_weights); {@code block} arrives zeroed. Only called when
     * {@link #usesImportance} is true.
     */
    void encodeBlockWeighted(float[] x, int xOff, float[] importance, int impOff, byte[] block, Scratch scratch) {
        throw new UnsupportedOperationException(typeName + " has no importance-weighted quantizer");
    }

    @Override
    public final void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int blocks = blockCount(n);
        byte[] block = new byte[blockBytes];
        for (int b = 0; b < blocks; b++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, offset + (long) b * blockBytes, block, 0, blockBytes);
            decodeBlock(block, dst, dstOff + b * KQuantMath.QK_K);
        }
    }

    @Override
    public final void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int blocks = blockCount(n);
        byte[] block = new byte[blockBytes];
        Scratch scratch = new Scratch();
        for (int b = 0; b < blocks; b++) {
            Arrays.fill(block, (byte) 0);
            encodeBlock(src, srcOff + b * KQuantMath.QK_K, block, scratch);
            MemorySegment.copy(block, 0, dst, ValueLayout.JAVA_BYTE, offset + (long) b * blockBytes, blockBytes);
        }
    }

    @Override
    public final void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        if (importance == null || !usesImportance()) {
            quantize(src, srcOff, dst, offset, n);
            return;
        }
        int blocks = blockCount(n);
        byte[] block = new byte[blockBytes];
        Scratch scratch = new Scratch();
        for (int b = 0; b < blocks; b++) {
            Arrays.fill(block, (byte) 0);
            encodeBlockWeighted(src, srcOff + b * KQuantMath.QK_K, importance, impOff + b * KQuantMath.QK_K, block, scratch);
            MemorySegment.copy(block, 0, dst, ValueLayout.JAVA_BYTE, offset + (long) b * blockBytes, blockBytes);
        }
    }

    @Override
    public final boolean canQuantize() {
        return true;
    }

    private int blockCount(int n) {
        if (n < 0 || n % KQuantMath.QK_K != 0) {
            throw new IllegalArgumentException(typeName + " works on whole super-blocks of " + KQuantMath.QK_K
                    + " values; cannot convert " + n);
        }
        return n / KQuantMath.QK_K;
    }
}
