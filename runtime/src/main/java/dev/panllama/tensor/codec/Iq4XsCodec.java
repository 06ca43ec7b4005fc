package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.nearestInt;
import static dev.panllama.tensor.codec.QuantMath.putByte;
import static dev.panllama.tensor.codec.QuantMath.putHalf;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ4_XS: super-blocks of 256 values as {@code half d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}
 * (ggml-common.h block_iq4_xs). Each of the 8 sub-blocks of 32 has a 6-bit scale ls (low 4 bits in
 * scales_l, nibble ib % 2 of byte ib / 2; high 2 bits at bits 2*ib of scales_h) and the values
 * {@code d * (ls - 32) * LEVELS[nibble]}, nibbles ordered as in IQ4_NL. Quantization follows
 * llama-quantize without an imatrix (ggml's quantize_iq4_xs): fit a float scale per sub-block, then
 * express each as a multiple of d = -(the scale of largest magnitude) / 32 and re-pick the levels.
 */
public final class Iq4XsCodec implements BlockCodec {
    public static final Iq4XsCodec INSTANCE = new Iq4XsCodec();

    static final int BLOCK_SIZE = 256;
    static final int BLOCK_BYTES = 136;
    private static final int SUB_BLOCKS = BLOCK_SIZE / Iq4Grid.SUB_BLOCK;

    private Iq4XsCodec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("IQ4_XS", n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * BLOCK_BYTES;
            float d = half(src, block);
            int scalesHigh = src.get(I16_LE, block + 2) & 0xFFFF;
            for (int ib = 0; ib < SUB_BLOCKS; ib++) {
                int low = (unsignedByte(src, block + 4 + ib / 2) >>> (4 * (ib % 2))) & 0x0F;
                int high = (scalesHigh >>> (2 * ib)) & 3;
                float dl = d * ((low | (high << 4)) - 32);
                long qs = block + 8 + 16L * ib;
                int out = dstOff + b * BLOCK_SIZE + ib * Iq4Grid.SUB_BLOCK;
                for (int j = 0; j < 16; j++) {
                    int q = unsignedByte(src, qs + j);
                    dst[out + j] = dl * Iq4Grid.LEVELS[q & 0x0F];
                    dst[out + j + 16] = dl * Iq4Grid.LEVELS[q >>> 4];
                }
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        quantizeRow(src, srcOff, null, 0, dst, offset, n);
    }

    /** With importance, ggml's weights mix it with the mean square of the whole super-block of 256. */
    @Override
    public void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        int nb = blocks("IQ4_XS", n, BLOCK_SIZE);
        float[] scales = new float[SUB_BLOCKS];
        float[] weights = new float[Iq4Grid.SUB_BLOCK];
        for (int b = 0; b < nb; b++) {
            int in = srcOff + b * BLOCK_SIZE;
            long block = offset + (long) b * BLOCK_BYTES;
            float sigma2 = importance != null ? Iq4Grid.sigma2(src, in, BLOCK_SIZE) : 0f;
            float amaxScale = 0f;
            float maxScale = 0f;
            for (int ib = 0; ib < SUB_BLOCKS; ib++) {
                int sub = ib * Iq4Grid.SUB_BLOCK;
                scales[ib] = Iq4Grid.fitScale(src, in + sub, importance, impOff + b * BLOCK_SIZE + sub, sigma2, weights);
                // ggml skips near-zero sub-blocks here; their scale 0 can never win anyway.
                if (Math.abs(scales[ib]) > amaxScale) {
                    amaxScale = Math.abs(scales[ib]);
                    maxScale = scales[ib];
                }
            }
            float d = -maxScale / 32;
            putHalf(dst, block, d);
            float id = d != 0f ? 1 / d : 0f;
            int scalesHigh = 0;
            for (int ib = 0; ib < SUB_BLOCKS; ib++) {
                int l = Math.clamp(nearestInt(id * scales[ib]), -32, 31);
                float dl = d * l;
                Iq4Grid.packNibbles(src, in + ib * Iq4Grid.SUB_BLOCK, dl != 0f ? 1 / dl : 0f, dst, block + 8 + 16L * ib);
                int ls = l + 32;
                long lowByte = block + 4 + ib / 2;
                if (ib % 2 == 0) {
                    putByte(dst, lowByte, ls & 0x0F);
                } else {
                    putByte(dst, lowByte, unsignedByte(dst, lowByte) | ((ls & 0x0F) << 4));
                }
                scalesHigh |= (ls >>> 4) << (2 * ib);
            }
            dst.set(I16_LE, block + 2, (short) scalesHigh);
        }
    }

    @Override
    public boolean usesImportance() { return true; }

    @Override
    public boolean canQuantize() { return true; }
}
