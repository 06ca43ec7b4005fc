package dev.panllama.tensor.codec;


import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static dev.panllama.tensor.codec.QuantMath.I16_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.nearestInt;
import static dev.panllama.tensor.codec.QuantMath.putHalf;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * IQ6_K (ik_llama.cpp): super-blocks of 256 values as
 * {@code half d; u16 extra; i8 scales[16]; u8 qs[128]; u8 qh[64]} (ggml-common.h block_iq6_k).
 * Sixteen sub-blocks of 16 with a signed 8-bit scale each; bit s of extra picks the shifted half of
 * {@link IqkGrid#IQ6} (the standard levels plus one). In the 64-value chunk c, element e &lt; 32 takes
 * the low nibble of qs[32·c + e] and element 32 + e its high nibble; their bits 4-5 are bits
 * 4·(c % 2) + 0..1 (respectively + 2..3) of qh[32·(c / 2) + e]. Value = d · scale · level.
 * See {@link IqkGrid} on the integer levels.
 *
 * <p>Quantization is ik_llama.cpp's quantize_iq6_k, with or without an importance matrix: a scale and
 * grid half per sub-block ({@link IqkScaleSearch}, 11 tries of step 1), d = −(the scale of largest
 * magnitude) / 127, 8-bit multiples of d, levels re-picked, and d refitted over the block.
 */
public final class Iq6KCodec extends IqkBlockCodec {
    public static final Iq6KCodec INSTANCE = new Iq6KCodec();

    static final int BLOCK_BYTES = 212;
    static final int SCALES = 4;
    static final int QS = 20;
    static final int QH = 148;

    private Iq6KCodec() {
        super("IQ6_K", BLOCK_BYTES);
    }

    @Override
    void decodeBlock(MemorySegment src, long block, float d, int extra, float[] dst, int out) {
        for (int s = 0; s < 16; s++) {
            float dl = d * src.get(ValueLayout.JAVA_BYTE, block + SCALES + s);
            int shifted = (extra >>> s) & 1;
            int c = s / 4;
            int high = (s / 2) % 2;
            int e0 = 16 * (s % 2);
            int e = out + 16 * s;
            for (int j = 0; j < 16; j++) {
                int low4 = (unsignedByte(src, block + QS + 32L * c + e0 + j) >>> (4 * high)) & 0x0F;
                int top2 = (unsignedByte(src, block + QH + 32L * (c / 2) + e0 + j) >>> (4 * (c % 2) + 2 * high)) & 3;
                dst[e + j] = dl * IqkGrid.IQ6.level(shifted, low4 | (top2 << 4));
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        quantizeRow(src, srcOff, null, 0, dst, offset, n);
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        IqkScaleSearch.quantizeRow("IQ6_K", BLOCK_BYTES, new IqkScaleSearch(IqkGrid.IQ6, 5, 1f, false), Iq6KCodec::encodeBlock,
                src, srcOff, importance, impOff, dst, offset, n);
    }

    private static void encodeBlock(float[] x, int from, float[] imp, int impFrom, IqkScaleSearch search,
                                    float[] weight, float[] scales, byte[] block) {
        Arrays.fill(block, (byte) 0);
        float sigma2 = IqkWeights.sigma2(x, from, 2f);
        int extra = search.fitBlock(x, from, imp, impFrom, sigma2, weight, scales);
        float maxScale = search.largest;
        if (maxScale == 0f) return;
        float d = -maxScale / 127;
        float id = 1 / d;
        int[] l = new int[16];
        for (int s = 0; s < 16; s++) {
            l[s] = Math.clamp(nearestInt(id * scales[s]), -127, 127);
            block[SCALES + s] = (byte) l[s];
        }
        // Sub-block s is the low or high half (s % 2) of 32-value group g = s / 2.
        float refit = search.pickLevels(x, from, imp, impFrom, sigma2, weight, d, l, extra, block, (packed, s, j, q) -> {
            int g = s / 2;
            int at = 16 * (s % 2);
            packed[QS + 32 * (g / 2) + at + j] |= (byte) ((q & 0x0F) << (4 * (g % 2)));
            packed[QH + 32 * (g / 4) + at + j] |= (byte) ((q >>> 4) << (2 * (g % 4)));
        });
        MemorySegment out = MemorySegment.ofArray(block);
        putHalf(out, 0, refit);
        out.set(I16_LE, 2, (short) extra);
    }

    @Override
    public boolean usesImportance() { return true; }

}
