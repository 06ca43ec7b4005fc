package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.nearestInt;
import static dev.panllama.tensor.codec.QuantMath.putHalf;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ5_K (ik_llama.cpp): super-blocks of 256 values as
 * {@code half d; u16 extra; u8 scales_h[4]; u8 scales_l[8]; u8 qs[128]; u8 qh[32]} (ggml-common.h
 * block_iq5_k). Sixteen sub-blocks of 16 with 6-bit scales stored as IQ4_K's and bit s of extra picking
 * the shifted half of {@link IqkGrid#IQ5}. In the 64-value chunk c, element e &lt; 32 takes the low
 * nibble of qs[32·c + e] and element 32 + e its high nibble (Q4_K's layout); the fifth bit of both is
 * bit 2·c (respectively 2·c + 1) of qh[e]. Value = d · (ls − 32) · level.
 *
 * <p>Quantization is ik_llama.cpp's quantize_iq5_k, with or without an importance matrix: a scale and
 * grid half per sub-block ({@link IqkScaleSearch}, 11 tries of step 1), d = −(the scale of largest
 * magnitude) / 32, 6-bit multiples of d, levels re-picked, and d refitted over the block.
 */
public final class Iq5KCodec extends IqkBlockCodec {
    public static final Iq5KCodec INSTANCE = new Iq5KCodec();

    static final int BLOCK_BYTES = 176;
    static final int QS = 16;
    static final int QH = 144;

    private Iq5KCodec() {
        super("IQ5_K", BLOCK_BYTES);
    }

    @Override
    void decodeBlock(MemorySegment src, long block, float d, int extra, float[] dst, int out) {
        for (int s = 0; s < 16; s++) {
            // Sub-block s covers elements 16·s..: chunk c = s / 4, nibble (s / 2) % 2, bytes 16·(s % 2)...
            float dl = d * (Iq4KCodec.scale(src, block, s) - 32);
            int shifted = (extra >>> s) & 1;
            int c = s / 4;
            int high = (s / 2) % 2;
            int e0 = 16 * (s % 2);
            int e = out + 16 * s;
            for (int j = 0; j < 16; j++) {
                int low4 = (unsignedByte(src, block + QS + 32L * c + e0 + j) >>> (4 * high)) & 0x0F;
                int bit5 = (unsignedByte(src, block + QH + e0 + j) >>> (2 * c + high)) & 1;
                dst[e + j] = dl * IqkGrid.IQ5.level(shifted, low4 | (bit5 << 4));
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        quantizeRow(src, srcOff, null, 0, dst, offset, n);
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        IqkScaleSearch.quantizeRow("IQ5_K", BLOCK_BYTES, new IqkScaleSearch(IqkGrid.IQ5, 5, 1f, false), Iq5KCodec::encodeBlock,
                src, srcOff, importance, impOff, dst, offset, n);
    }

    private static void encodeBlock(float[] x, int from, float[] imp, int impFrom, IqkScaleSearch search,
                                    float[] weight, float[] scales, byte[] block) {
        Arrays.fill(block, (byte) 0);
        float sigma2 = IqkWeights.sigma2(x, from, 2f);
        int extra = search.fitBlock(x, from, imp, impFrom, sigma2, weight, scales);
        float maxScale = search.largest;
        if (maxScale == 0f) return;
        float d = -maxScale / 32;
        float id = 1 / d;
        int[] l = new int[16];
        for (int s = 0; s < 16; s++) {
            l[s] = Math.clamp(nearestInt(id * scales[s]), -32, 31);
            int u = l[s] + 32;
            block[Iq4KCodec.SCALES_L + s / 2] |= (byte) ((u & 0x0F) << (4 * (s % 2)));
            block[Iq4KCodec.SCALES_H + s / 4] |= (byte) ((u >>> 4) << (2 * (s % 4)));
        }
        // Sub-block s is the low or high half (s % 2) of 32-value group g = s / 2.
        float refit = search.pickLevels(x, from, imp, impFrom, sigma2, weight, d, l, extra, block, (packed, s, j, q) -> {
            int g = s / 2;
            int at = 16 * (s % 2);
            packed[QS + 32 * (g / 2) + at + j] |= (byte) ((q & 0x0F) << (4 * (g % 2)));
            packed[QH + at + j] |= (byte) ((q >>> 4) << g);
        });
        MemorySegment out = MemorySegment.ofArray(block);
        putHalf(out, 0, refit);
        out.set(I16_LE, 2, (short) extra);
    }

    @Override
    public boolean usesImportance() { return true; }

}
