package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;

/**
 * ik_llama.cpp's IQ2_K ... IQ6_K: super-blocks of 256 values that open with {@code half d; u16 extra}
 * (ggml-common.h block_iqN_k), bit s of extra picking the shifted half of the grid for sub-block s of
 * 16 values. The loop over blocks lives here; a type decodes one block.
 */
abstract class IqkBlockCodec implements BlockCodec {
    private final String name;
    private final int blockBytes;

    IqkBlockCodec(String name, int blockBytes) {
        this.name = name;
        this.blockBytes = blockBytes;
    }

    /** Decodes the block at {@code src[block..]}, whose scale is d, into {@code dst[out, out + 256)}. */
    abstract void decodeBlock(MemorySegment src, long block, float d, int extra, float[] dst, int out);

    @Override
    public final void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks(name, n, 256);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * blockBytes;
            decodeBlock(src, block, half(src, block), src.get(I16_LE, block + 2) & 0xFFFF, dst, dstOff + 256 * b);
        }
    }

    @Override
    public final boolean canQuantize() { return true; }
}
