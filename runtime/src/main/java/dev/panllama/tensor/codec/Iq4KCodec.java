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
 * IQ4_K (ik_llama.cpp): super-blocks of 256 values as
 * {@code half d; u16 extra; u8 scales_h[4]; u8 scales_l[8]; u8 qs[128]} (ggml-common.h block_iq4_k).
 * Sixteen sub-blocks of 16 values: sub-block s has the 6-bit scale ls (low 4 bits: nibble s % 2 of
 * scales_l[s / 2]; high 2 bits: bits 2·(s % 4) of scales_h[s / 4]) and bit s of extra picks the
 * shifted half of {@link IqkGrid#IQ4}. The 16 bytes of 32-value group g hold its elements 0..15 in
 * their low nibbles and 16..31 in their high ones, as IQ4_XS. Value = d · (ls − 32) · level.
 *
 * <p>Quantization follows ik_llama.cpp's quantize_iq4_k without an imatrix: a scale and grid half per
 * sub-block of 16 ({@link Iq4KSearch}), d = −(the scale of largest magnitude) / 32, 6-bit multiples of
 * d, levels re-picked under them, and d finally refitted by least squares over the whole block.
 */
public final class Iq4KCodec extends IqkBlockCodec {
    public static final Iq4KCodec INSTANCE = new Iq4KCodec();

    static final int BLOCK_BYTES = 144;
    static final int SCALES_H = 4;
    static final int SCALES_L = 8;
    static final int QS = 16;

    private Iq4KCodec() {
        super("IQ4_K", BLOCK_BYTES);
    }

    @Override
    void decodeBlock(MemorySegment src, long block, float d, int extra, float[] dst, int out) {
        for (int s = 0; s < 16; s++) {
            float dl = d * (scale(src, block, s) - 32);
            int shifted = (extra >>> s) & 1;
            int nibble = 4 * (s % 2);
            long qs = block + QS + 16L * (s / 2);
            int e = out + 16 * s;
            for (int j = 0; j < 16; j++) {
                dst[e + j] = dl * IqkGrid.IQ4.level(shifted, (unsignedByte(src, qs + j) >>> nibble) & 0x0F);
            }
        }
    }

    /** The 6-bit scale of sub-block s. */
    static int scale(MemorySegment src, long block, int s) {
        int low = (unsignedByte(src, block + SCALES_L + s / 2) >>> (4 * (s % 2))) & 0x0F;
        int high = (unsignedByte(src, block + SCALES_H + s / 4) >>> (2 * (s % 4))) & 3;
        return low | (high << 4);
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int nb = blocks("IQ4_K", n, 256);
        Iq4KSearch search = new Iq4KSearch();
        float[] scales = new float[16];
        byte[] levels = new byte[256];
        for (int b = 0; b < nb; b++) {
            encodeBlock(src, srcOff + 256 * b, dst, offset + (long) b * BLOCK_BYTES, search, scales, levels);
        }
    }

    private static void encodeBlock(float[] x, int from, MemorySegment dst, long block, Iq4KSearch search, float[] scales, byte[] levels) {
        dst.asSlice(block, BLOCK_BYTES).fill((byte) 0);
        int extra = 0;
        float maxScale = 0f;
        float amaxScale = 0f;
        for (int s = 0; s < 16; s++) {
            search.fit(x, from + 16 * s, 16);
            scales[s] = search.scale;
            if (search.shifted) extra |= 1 << s;
            if (Math.abs(search.scale) > amaxScale) {
                amaxScale = Math.abs(search.scale);
                maxScale = search.scale;
            }
        }
        float d = -maxScale / 32;
        float id = d != 0f ? 1 / d : 0f;
        float sumqx = 0f;
        float sumq2 = 0f;
        for (int s = 0; s < 16; s++) {
            int shifted = (extra >>> s) & 1;
            int l = Math.clamp(nearestInt(id * scales[s]), -32, 31);
            float dl = d * l;
            float idl = dl != 0f ? 1 / dl : 0f;
            for (int j = 0; j < 16; j++) {
                float xj = x[from + 16 * s + j];
                int q = IqkGrid.IQ4.nearest(shifted, idl * xj);
                levels[16 * s + j] = (byte) q;
                float w = xj * xj;
                float v = IqkGrid.IQ4.level(shifted, q) * l;
                sumqx += w * v * xj;
                sumq2 += w * v * v;
            }
            int ls = l + 32;
            long low = block + SCALES_L + s / 2;
            putByte(dst, low, unsignedByte(dst, low) | ((ls & 0x0F) << (4 * (s % 2))));
            long high = block + SCALES_H + s / 4;
            putByte(dst, high, unsignedByte(dst, high) | ((ls >>> 4) << (2 * (s % 4))));
        }
        putHalf(dst, block, sumq2 > 0 ? sumqx / sumq2 : d);
        dst.set(I16_LE, block + 2, (short) extra);
        for (int g = 0; g < 8; g++) {
            for (int j = 0; j < 16; j++) {
                putByte(dst, block + QS + 16L * g + j, levels[32 * g + j] | (levels[32 * g + 16 + j] << 4));
            }
        }
    }

}
