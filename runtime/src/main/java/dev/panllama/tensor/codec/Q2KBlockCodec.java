package dev.panllama.tensor.codec;

/**
 * Q2_K: 2.625 bits per weight. Sixteen sub-blocks of 16 values, x = d * scale_j * q - dmin * min_j
 * with q in [0, 3] and 4-bit scale_j, min_j.
 *
 * <p>Layout (ggml-common.h block_q2_K, 84 bytes): 16 bytes at 0, one per sub-block, scale in the low
 * nibble and min in the high one; 64 bytes of 2-bit levels at 16 (element e = 128*h + 32*k + l sits
 * in byte 16 + 32*h + l at bit 2*k); d (half) at 80, dmin (half) at 82. Quantization follows ggml's
 * quantize_row_q2_K_ref, the path llama-quantize takes without an imatrix.
 */
public final class Q2KBlockCodec extends SuperBlockCodec {
    public static final Q2KBlockCodec INSTANCE = new Q2KBlockCodec();

    static final int BLOCK_BYTES = 84;
    private static final int SCALES = 0;
    private static final int QS = 16;
    private static final int D = 80;
    private static final int DMIN = 82;
    /** Largest 4-bit scale or min (ggml's q4scale). */
    private static final float Q4_SCALE = 15f;

    private Q2KBlockCodec() {
        super("Q2_K", BLOCK_BYTES);
    }

    @Override
    void decodeBlock(byte[] block, float[] dst, int dstOff) {
        float d = KQuantMath.halfAt(block, D);
        float dmin = KQuantMath.halfAt(block, DMIN);
        for (int sub = 0; sub < 16; sub++) {
            int packed = block[SCALES + sub] & 0xFF;
            float step = d * (packed & 0xF);
            float min = dmin * (packed >> 4);
            for (int e = 16 * sub; e < 16 * sub + 16; e++) {
                dst[dstOff + e] = step * level(block, e) - min;
            }
        }
    }

    private static int level(byte[] block, int e) {
        return ((block[QS + 32 * (e / 128) + e % 32] & 0xFF) >> (2 * ((e / 32) % 4))) & 3;
    }

    @Override
    void encodeBlock(float[] x, int xOff, byte[] block, Scratch s) {
        float maxScale = 0;
        float maxMin = 0;
        for (int sub = 0; sub < 16; sub++) {
            int off = xOff + 16 * sub;
            for (int l = 0; l < 16; l++) s.weights[l] = Math.abs(x[off + l]);
            s.scales[sub] = KQuantMath.makeQkxQuants(16, 3, x, off, s.weights, s.levels, 16 * sub,
                    s.mins, sub, s.candidate, -0.5f, 0.1f, 15, true);
            if (s.scales[sub] > maxScale) maxScale = s.scales[sub];
            if (s.mins[sub] > maxMin) maxMin = s.mins[sub];
        }
        if (maxScale > 0) {
            float iscale = Q4_SCALE / maxScale;
            for (int sub = 0; sub < 16; sub++) {
                block[SCALES + sub] = (byte) KQuantMath.nearestInt(iscale * s.scales[sub]);
            }
            KQuantMath.putHalf(block, D, maxScale / Q4_SCALE);
        }
        if (maxMin > 0) {
            float iscale = Q4_SCALE / maxMin;
            for (int sub = 0; sub < 16; sub++) {
                block[SCALES + sub] |= (byte) (KQuantMath.nearestInt(iscale * s.mins[sub]) << 4);
            }
            KQuantMath.putHalf(block, DMIN, maxMin / Q4_SCALE);
        }
        requantizeAndPack(x, xOff, block, s.levels);
    }

    /**
     * With importance (ggml's quantize_row_q2_K_impl): each sub-block's scale and min come from the
     * weighted grid search of make_qkx3_quants, and the 4-bit scales and mins from make_qp_quants
     * weighted by the sub-blocks' total weight.
     */
    @Override
    void encodeBlockWeighted(float[] x, int xOff, float[] importance, int impOff, byte[] block, Scratch s) {
        float sigma2 = WeightedQuantMath.sumOfSquares(x, xOff, KQuantMath.QK_K) / KQuantMath.QK_K;
        for (int sub = 0; sub < 16; sub++) {
            int off = xOff + 16 * sub;
            WeightedQuantMath.fillWeights(s.weights, x, off, importance, impOff + 16 * sub, 16, sigma2);
            float sum = 0;
            for (int l = 0; l < 16; l++) sum += s.weights[l];
            s.subBlockWeights[sub] = sum;
            s.scales[sub] = KQuantMath.makeQkxQuants(16, 3, x, off, s.weights, s.levels, 16 * sub,
                    s.mins, sub, s.candidate, -0.9f, 0.05f, 36, false);
        }
        float dm = WeightedQuantMath.makeQpQuants(16, 15, s.scales, s.scaleLevels, s.subBlockWeights);
        float mm = WeightedQuantMath.makeQpQuants(16, 15, s.mins, s.minLevels, s.subBlockWeights);
        KQuantMath.putHalf(block, D, dm);
        KQuantMath.putHalf(block, DMIN, mm);
        for (int sub = 0; sub < 16; sub++) {
            block[SCALES + sub] = (byte) (s.scaleLevels[sub] | (s.minLevels[sub] << 4));
        }
        requantizeAndPack(x, xOff, block, s.levels);
    }

    /** Rounds every element again against the stored scales and mins (levels 0..3), then packs the levels. */
    private static void requantizeAndPack(float[] x, int xOff, byte[] block, byte[] levels) {
        float d = KQuantMath.halfAt(block, D);
        float dmin = KQuantMath.halfAt(block, DMIN);
        for (int sub = 0; sub < 16; sub++) {
            int packed = block[SCALES + sub] & 0xFF;
            float step = d * (packed & 0xF);
            if (step == 0) continue; // keeps the levels of the search, as ggml does
            float min = dmin * (packed >> 4);
            for (int i = 16 * sub; i < 16 * sub + 16; i++) {
                levels[i] = (byte) KQuantMath.clamp(KQuantMath.nearestInt((x[xOff + i] + min) / step), 0, 3);
            }
        }
        for (int e = 0; e < KQuantMath.QK_K; e++) {
            block[QS + 32 * (e / 128) + e % 32] |= (byte) (levels[e] << (2 * ((e / 32) % 4)));
        }
    }

    @Override
    public boolean usesImportance() { return true; }
}
