package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ2_KS (ik_llama.cpp): a row is one half d followed by super-blocks of 256 values as
 * {@code u16 extra; u8 scales[4]; u8 qs[64]} (ggml-common.h block_iq2_ks; the 2-byte row scale is the
 * type's row metadata). Eight sub-blocks of 32: sub-block g has the 5-bit scale (nibble g % 2 of
 * scales[g / 2]) | (bit 8 + g of extra) << 4, minus 16, and bit g of extra picks the shifted half of
 * {@link IqkGrid#IQ2}. Element j of sub-block g takes bits 2·(g % 4) of qs[32·(g / 4) + j], as IQ2_K.
 *
 * <p>Quantization is what ik_llama.cpp's llama-quantize runs on x86 ({@link Iq2KsEncoder}), with or
 * without an importance matrix; n must be a whole row.
 */
public final class Iq2KsCodec implements BlockCodec {
    public static final Iq2KsCodec INSTANCE = new Iq2KsCodec();

    static final int ROW_META = 2;
    static final int BLOCK_BYTES = 70;
    static final int SCALES = 2;
    static final int QS = 6;

    private Iq2KsCodec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("IQ2_KS", n, 256);
        float d = half(src, offset);
        for (int b = 0; b < nb; b++) {
            long block = offset + ROW_META + (long) b * BLOCK_BYTES;
            int extra = src.get(I16_LE, block) & 0xFFFF;
            for (int g = 0; g < 8; g++) {
                int low = (unsignedByte(src, block + SCALES + g / 2) >>> (4 * (g % 2))) & 0x0F;
                float dl = d * ((low | (((extra >>> (8 + g)) & 1) << 4)) - 16);
                int shifted = (extra >>> g) & 1;
                long qs = block + QS + 32L * (g / 4);
                int shift = 2 * (g % 4);
                int out = dstOff + 256 * b + 32 * g;
                for (int j = 0; j < 32; j++) {
                    dst[out + j] = dl * IqkGrid.IQ2.level(shifted, (unsignedByte(src, qs + j) >>> shift) & 3);
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
        blocks("IQ2_KS", n, 256);
        float[] imp = IqkWeights.rowImportance(importance, impOff, src, srcOff, n, 32);
        new Iq2KsEncoder().encodeRow(src, srcOff, imp, n, dst, offset);
    }

    @Override
    public boolean usesImportance() { return true; }

    @Override
    public boolean canQuantize() { return true; }
}
