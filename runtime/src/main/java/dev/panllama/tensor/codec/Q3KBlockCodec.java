package dev.panllama.tensor.codec;

/**
 * Q3_K: 3.4375 bits per weight. Sixteen sub-blocks of 16 values, x = d * (scale_j - 32) * (q - 4)
 * with q in [0, 7] and a 6-bit scale_j per sub-block; no min.
 *
 * <p>Layout (ggml-common.h block_q3_K, 110 bytes): 32 bytes of high bits at 0 (bit e / 32 of byte
 * e % 32 is the third bit of element e), 64 bytes of 2-bit low parts at 32 (element
 * e = 128*h + 32*k + l sits in byte 32 + 32*h + l at bit 2*k), 12 bytes of packed scales at 96,
 * d (half) at 108. Quantization follows ggml's quantize_row_q3_K_ref, the path llama-quantize takes
 * without an imatrix.
 */
public final class Q3KBlockCodec extends SuperBlockCodec {
    public static final Q3KBlockCodec INSTANCE = new Q3KBlockCodec();

    static final int BLOCK_BYTES = 110;
    private static final int HMASK = 0;
    private static final int QS = 32;
    private static final int SCALES = 96;
    private static final int D = 108;

    private Q3KBlockCodec() {
        super("Q3_K", BLOCK_BYTES);
    }

    @Override
    void decodeBlock(byte[] block, float[] dst, int dstOff) {
        float d = KQuantMath.halfAt(block, D);
        for (int sub = 0; sub < 16; sub++) {
            float step = d * (scale(block, sub) - 32);
            for (int e = 16 * sub; e < 16 * sub + 16; e++) {
                dst[dstOff + e] = step * (level(block, e) - 4);
            }
        }
    }

    /**
     * The 6-bit scale of sub-block j: its low nibble is in byte j (j < 8, low half) or byte j - 8
     * (high half); its top two bits are in byte 8 + j % 4 at bit 2 * (j / 4).
     */
    private static int scale(byte[] block, int j) {
        int packed = j < 8 ? block[SCALES + j] & 0xF : (block[SCALES + j - 8] & 0xFF) >> 4;
        int high = ((block[SCALES + 8 + j % 4] & 0xFF) >> (2 * (j / 4))) & 3;
        return packed | (high << 4);
    }

    private static int level(byte[] block, int e) {
        int low = ((block[QS + 32 * (e / 128) + e % 32] & 0xFF) >> (2 * ((e / 32) % 4))) & 3;
        int high = ((block[HMASK + e % 32] & 0xFF) >> (e / 32)) & 1;
        return low | (high << 2);
    }

    @Override
    void encodeBlock(float[] x, int xOff, byte[] block, Scratch s) {
        float maxScale = 0;
        float amax = 0;
        for (int sub = 0; sub < 16; sub++) {
            s.scales[sub] = KQuantMath.makeQ3Quants(16, 4, x, xOff + 16 * sub, s.levels, 16 * sub);
            float abs = Math.abs(s.scales[sub]);
            if (abs > amax) {
                amax = abs;
                maxScale = s.scales[sub];
            }
        }
        if (maxScale != 0) {
            float iscale = -32f / maxScale;
            for (int sub = 0; sub < 16; sub++) {
                // ggml narrows nearest_int's result to int8_t before clamping.
                int l = KQuantMath.clamp((byte) KQuantMath.nearestInt(iscale * s.scales[sub]), -32, 31) + 32;
                if (sub < 8) {
                    block[SCALES + sub] = (byte) (l & 0xF);
                } else {
                    block[SCALES + sub - 8] |= (byte) ((l & 0xF) << 4);
                }
                block[SCALES + 8 + sub % 4] |= (byte) ((l >> 4) << (2 * (sub / 4)));
            }
            KQuantMath.putHalf(block, D, 1 / iscale);
        }
        requantizeAndPack(x, xOff, block, s.levels);
    }

    /**
     * With importance (ggml's quantize_row_q3_K_impl): each sub-block's scale is make_qx_quants'
     * weighted fit, and the 6-bit scales are themselves fitted by make_qx_quants weighted by each
     * sub-block's total weight.
     */
    @Override
    void encodeBlockWeighted(float[] x, int xOff, float[] importance, int impOff, byte[] block, Scratch s) {
        float sigma2 = 2 * WeightedQuantMath.sumOfSquares(x, xOff, KQuantMath.QK_K) / KQuantMath.QK_K;
        for (int sub = 0; sub < 16; sub++) {
            int off = xOff + 16 * sub;
            WeightedQuantMath.fillWeights(s.weights, x, off, importance, impOff + 16 * sub, 16, sigma2);
            float sum = 0;
            for (int l = 0; l < 16; l++) sum += s.weights[l];
            s.subBlockWeights[sub] = sum;
            s.scales[sub] = KQuantMath.makeQxQuants(16, 4, x, off, s.weights, 0, s.levels, 16 * sub);
        }
        byte[] scaleLevels = s.candidate;
        float dBlock = KQuantMath.makeQxQuants(16, 32, s.scales, 0, s.subBlockWeights, 0, scaleLevels, 0);
        for (int sub = 0; sub < 16; sub++) {
            int l = scaleLevels[sub];
            if (sub < 8) {
                block[SCALES + sub] = (byte) (l & 0xF);
            } else {
                block[SCALES + sub - 8] |= (byte) ((l & 0xF) << 4);
            }
            block[SCALES + 8 + sub % 4] |= (byte) ((l >> 4) << (2 * (sub / 4)));
        }
        KQuantMath.putHalf(block, D, dBlock);
        requantizeAndPack(x, xOff, block, s.levels);
    }

    /** Rounds every element again against the stored scales (levels -4..3, kept as 0..7), then packs them. */
    private static void requantizeAndPack(float[] x, int xOff, byte[] block, byte[] levels) {
        float d = KQuantMath.halfAt(block, D);
        for (int sub = 0; sub < 16; sub++) {
            float step = d * (scale(block, sub) - 32);
            if (step == 0) continue; // keeps the levels of the search, as ggml does
            for (int i = 16 * sub; i < 16 * sub + 16; i++) {
                levels[i] = (byte) (KQuantMath.clamp(KQuantMath.nearestInt(x[xOff + i] / step), -4, 3) + 4);
            }
        }
        for (int e = 0; e < KQuantMath.QK_K; e++) {
            int q = levels[e];
            block[HMASK + e % 32] |= (byte) ((q >> 2) << (e / 32));
            block[QS + 32 * (e / 128) + e % 32] |= (byte) ((q & 3) << (2 * ((e / 32) % 4)));
        }
    }

    @Override
    public boolean usesImportance() { return true; }
}
