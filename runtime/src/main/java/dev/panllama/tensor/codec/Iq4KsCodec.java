package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.F32_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.nearestInt;
import static dev.panllama.tensor.codec.QuantMath.putByte;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ4_KS (ik_llama.cpp): a row is one float d followed by super-blocks of 256 values as
 * {@code u8 scales[8]; u8 qs[128]} (ggml-common.h block_iq4_ks; the 4-byte row scale is the type's
 * row metadata). Each sub-block of 32 has one scale byte: bit 0 picks the shifted half of
 * {@link IqkGrid#IQ4}, bits 1-7 give the odd multiplier (byte & 254) − 127; its 16 bytes hold elements
 * 0..15 in their low nibbles and 16..31 in their high ones. Value = d · ((byte & 254) − 127) · level.
 *
 * <p>Quantization follows ik_llama.cpp's quantize_iq4_ks without an imatrix: a scale and grid half per
 * sub-block ({@link Iq4KSearch}), d = (the largest scale magnitude) / 127 for the whole row, each
 * scale rounded to an odd multiple of d, levels re-picked, and d refitted by least squares over the row.
 */
public final class Iq4KsCodec implements BlockCodec {
    public static final Iq4KsCodec INSTANCE = new Iq4KsCodec();

    static final int ROW_META = 4;
    static final int BLOCK_BYTES = 136;
    static final int QS = 8;

    private Iq4KsCodec() {}

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks("IQ4_KS", n, 256);
        float d = src.get(F32_LE, offset);
        for (int b = 0; b < nb; b++) {
            long block = offset + ROW_META + (long) b * BLOCK_BYTES;
            for (int g = 0; g < 8; g++) {
                int scale = unsignedByte(src, block + g);
                float dl = d * ((scale & 254) - 127);
                int shifted = scale & 1;
                long qs = block + QS + 16L * g;
                int out = dstOff + 256 * b + 32 * g;
                for (int j = 0; j < 16; j++) {
                    int q = unsignedByte(src, qs + j);
                    dst[out + j] = dl * IqkGrid.IQ4.level(shifted, q & 0x0F);
                    dst[out + j + 16] = dl * IqkGrid.IQ4.level(shifted, q >>> 4);
                }
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int nb = blocks("IQ4_KS", n, 256);
        dst.asSlice(offset, ROW_META + (long) nb * BLOCK_BYTES).fill((byte) 0);
        Iq4KSearch search = new Iq4KSearch();
        float[] scales = new float[8 * nb];
        float amaxScale = 0f;
        for (int g = 0; g < 8 * nb; g++) {
            search.fit(src, srcOff + 32 * g, 32);
            scales[g] = search.scale;
            if (search.shifted) putByte(dst, scaleByte(offset, g), 1);
            amaxScale = Math.max(amaxScale, Math.abs(search.scale));
        }
        float d = amaxScale / 127;
        dst.set(F32_LE, offset, d);
        if (d == 0f) return;
        float id = 1 / d;
        float sumqx = 0f;
        float sumq2 = 0f;
        for (int g = 0; g < 8 * nb; g++) {
            long scaleByte = scaleByte(offset, g);
            int shifted = unsignedByte(dst, scaleByte) & 1;
            int l = Math.clamp(nearestInt(0.5f * (id * scales[g] + 127f)), 0, 127) << 1;
            putByte(dst, scaleByte, shifted | l);
            l -= 127;
            float dl = d * l;
            float idl = dl != 0f ? 1 / dl : 0f;
            int in = srcOff + 32 * g;
            long qs = offset + ROW_META + (long) (g / 8) * BLOCK_BYTES + QS + 16L * (g % 8);
            for (int j = 0; j < 16; j++) {
                float x1 = src[in + j];
                float x2 = src[in + j + 16];
                int i1 = IqkGrid.IQ4.nearest(shifted, idl * x1);
                int i2 = IqkGrid.IQ4.nearest(shifted, idl * x2);
                putByte(dst, qs + j, i1 | (i2 << 4));
                float w1 = x1 * x1;
                float w2 = x2 * x2;
                float q1 = IqkGrid.IQ4.level(shifted, i1) * l;
                float q2 = IqkGrid.IQ4.level(shifted, i2) * l;
                sumqx += w1 * q1 * x1 + w2 * q2 * x2;
                sumq2 += w1 * q1 * q1 + w2 * q2 * q2;
            }
        }
        if (sumq2 > 0) dst.set(F32_LE, offset, sumqx / sumq2);
    }

    private static long scaleByte(long rowOffset, int g) {
        return rowOffset + ROW_META + (long) (g / 8) * BLOCK_BYTES + g % 8;
    }

    @Override
    public boolean canQuantize() { return true; }
}
