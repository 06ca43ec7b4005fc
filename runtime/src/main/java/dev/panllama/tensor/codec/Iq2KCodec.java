package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ2_K (ik_llama.cpp): super-blocks of 256 values as {@code half d; u16 extra; u8 scales[8]; u8 qs[64]}
 * (ggml-common.h block_iq2_k). Sixteen sub-blocks of 16 values: sub-block s has the 4-bit scale nibble
 * s % 2 of scales[s / 2], minus 8, and bit s of extra picks the shifted half of {@link IqkGrid#IQ2}.
 * Element j (0..31) of the 32-value group g takes its 2-bit index from bits 2·(g % 4) of
 * qs[32·(g / 4) + j], the layout of Q2_K's quants. Value = d · (scale − 8) · level.
 *
 * <p>Quantization is ik_llama.cpp's quantize_iq2_k ({@link Iq2KEncoder}), with or without an
 * importance matrix.
 */
public final class Iq2KCodec extends IqkBlockCodec {
    public static final Iq2KCodec INSTANCE = new Iq2KCodec();

    static final int BLOCK_BYTES = 76;
    static final int SCALES = 4;
    static final int QS = 12;

    private Iq2KCodec() {
        super("IQ2_K", BLOCK_BYTES);
    }

    @Override
    void decodeBlock(MemorySegment src, long block, float d, int extra, float[] dst, int out) {
        for (int g = 0; g < 8; g++) {
            int scales = unsignedByte(src, block + SCALES + g);
            long qs = block + QS + 32L * (g / 4);
            int shift = 2 * (g % 4);
            int e = out + 32 * g;
            for (int half = 0; half < 2; half++) {
                int s = 2 * g + half;
                float dl = d * (((scales >>> (4 * half)) & 0x0F) - 8);
                int shifted = (extra >>> s) & 1;
                for (int j = 0; j < 16; j++) {
                    int q = (unsignedByte(src, qs + 16 * half + j) >>> shift) & 3;
                    dst[e + 16 * half + j] = dl * IqkGrid.IQ2.level(shifted, q);
                }
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        quantizeRow(src, srcOff, null, 0, dst, offset, n);
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        int nb = blocks("IQ2_K", n, 256);
        float[] imp = IqkWeights.rowImportance(importance, impOff, src, srcOff, n, 16);
        Iq2KEncoder encoder = new Iq2KEncoder();
        for (int b = 0; b < nb; b++) encoder.encode(src, srcOff + 256 * b, imp, 256 * b, dst, offset + (long) b * BLOCK_BYTES);
    }

    @Override
    public boolean usesImportance() { return true; }

}
