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
 * IQ3_K (ik_llama.cpp): super-blocks of 256 values as
 * {@code half d; u16 extra; u16 scales_h; u8 scales_l[8]; u8 qs[64]; u8 qh[32]} (ggml-common.h
 * block_iq3_k). Sixteen sub-blocks of 16: sub-block s has the odd scale 2·(nibble s % 2 of
 * scales_l[s / 2]) + 1, negated when bit s of scales_h is set, and bit s of extra picks the shifted
 * half of {@link IqkGrid#IQ3}. Element j (0..31) of the 32-value group g has a 3-bit index: its low two
 * bits at bits 2·(g % 4) of qs[32·(g / 4) + j] (as IQ2_K), its third bit at bit g of qh[j].
 *
 * <p>Quantization is ik_llama.cpp's quantize_iq3_k, with or without an importance matrix: a scale and
 * grid half per sub-block ({@link IqkScaleSearch}, 7 tries of step 2), d = (the largest scale
 * magnitude) / 31, each scale rounded to an odd multiple of d with its sign apart, levels re-picked, and
 * d refitted over the block and raised by 1% (ik_llama.cpp's empirical factor).
 */
public final class Iq3KCodec extends IqkBlockCodec {
    public static final Iq3KCodec INSTANCE = new Iq3KCodec();

    static final int BLOCK_BYTES = 110;
    static final int SCALES_H = 4;
    static final int SCALES_L = 6;
    static final int QS = 14;
    static final int QH = 78;

    private Iq3KCodec() {
        super("IQ3_K", BLOCK_BYTES);
    }

    @Override
    void decodeBlock(MemorySegment src, long block, float d, int extra, float[] dst, int out) {
        int signs = src.get(I16_LE, block + SCALES_H) & 0xFFFF;
        for (int g = 0; g < 8; g++) {
            int scales = unsignedByte(src, block + SCALES_L + g);
            long qs = block + QS + 32L * (g / 4);
            int shift = 2 * (g % 4);
            int e = out + 32 * g;
            for (int half = 0; half < 2; half++) {
                int s = 2 * g + half;
                int scale = 2 * ((scales >>> (4 * half)) & 0x0F) + 1;
                float dl = d * (((signs >>> s) & 1) != 0 ? -scale : scale);
                int shifted = (extra >>> s) & 1;
                for (int j = 16 * half; j < 16 * half + 16; j++) {
                    int q = ((unsignedByte(src, qs + j) >>> shift) & 3) | (((unsignedByte(src, block + QH + j) >>> g) & 1) << 2);
                    dst[e + j] = dl * IqkGrid.IQ3.level(shifted, q);
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
        IqkScaleSearch.quantizeRow("IQ3_K", BLOCK_BYTES, new IqkScaleSearch(IqkGrid.IQ3, 3, 2f, true), Iq3KCodec::encodeBlock,
                src, srcOff, importance, impOff, dst, offset, n);
    }

    private static void encodeBlock(float[] x, int from, float[] imp, int impFrom, IqkScaleSearch search,
                                    float[] weight, float[] scales, byte[] block) {
        Arrays.fill(block, (byte) 0);
        float sigma2 = IqkWeights.sigma2(x, from, 1.5f);
        int extra = 0;
        float maxAbsScale = 0f;
        for (int s = 0; s < 16; s++) {
            IqkWeights.fill(x, from + 16 * s, imp, impFrom + 16 * s, sigma2, weight, 16);
            search.fit(x, from + 16 * s, weight, 16);
            scales[s] = search.empty ? 0f : search.scale;
            if (search.empty) continue;
            if (search.shifted) extra |= 1 << s;
            maxAbsScale = Math.max(maxAbsScale, Math.abs(search.scale));
        }
        if (maxAbsScale == 0f) return;
        float d = maxAbsScale / 31;
        float id = 1 / d;
        int signs = 0;
        int[] l = new int[16];
        for (int s = 0; s < 16; s++) {
            int level = Math.clamp(nearestInt(0.5f * Math.fma(id, Math.abs(scales[s]), -1f)), 0, 15);
            block[SCALES_L + s / 2] |= (byte) (level << (4 * (s % 2)));
            if (scales[s] < 0) signs |= 1 << s;
            l[s] = (2 * level + 1) * (scales[s] < 0 ? -1 : 1);
        }
        // Sub-block s is the low or high half (s % 2) of 32-value group g = s / 2.
        float refit = search.pickLevels(x, from, imp, impFrom, sigma2, weight, d, l, extra, block, (packed, s, j, q) -> {
            int g = s / 2;
            int at = 16 * (s % 2);
            packed[QS + 32 * (g / 4) + at + j] |= (byte) ((q & 3) << (2 * (g % 4)));
            packed[QH + at + j] |= (byte) ((q >>> 2) << g);
        });
        MemorySegment out = MemorySegment.ofArray(block);
        putHalf(out, 0, 1.01f * refit);
        out.set(I16_LE, 2, (short) extra);
        out.set(I16_LE, SCALES_H, (short) signs);
    }

    @Override
    public boolean usesImportance() { return true; }

}
