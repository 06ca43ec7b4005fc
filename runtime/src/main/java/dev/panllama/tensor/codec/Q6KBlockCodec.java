package dev.panllama.tensor.codec;

/**
 * Q6_K: 6.5625 bits per weight. Sixteen sub-blocks of 16 values, x = d * scale_j * (q - 32) with
 * q in [0, 63] and a signed 8-bit scale_j per sub-block; no min.
 *
 * <p>Layout (ggml-common.h block_q6_K, 210 bytes): 128 bytes of low nibbles at 0, 64 bytes of high
 * bit pairs at 128, 16 int8 scales at 192, d (half) at 208. Element e = 128*h + 32*k + l (h in 0..1,
 * k in 0..3, l in 0..31) keeps its low nibble in byte 64*h + 32*(k % 2) + l at bit 4*(k / 2), and its
 * high two bits in byte 128 + 32*h + l at bit 2*k. Quantization follows ggml's
 * quantize_row_q6_K_ref, the path llama-quantize takes without an imatrix.
 */
public final class Q6KBlockCodec extends SuperBlockCodec {
    public static final Q6KBlockCodec INSTANCE = new Q6KBlockCodec();

    static final int BLOCK_BYTES = 210;
    private static final int QL = 0;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;

    private Q6KBlockCodec() {
        super("Q6_K", BLOCK_BYTES);
    }

    @Override
    void decodeBlock(byte[] block, float[] dst, int dstOff) {
        float d = KQuantMath.halfAt(block, D);
        for (int e = 0; e < KQuantMath.QK_K; e++) {
            dst[dstOff + e] = d * block[SCALES + e / 16] * (level(block, e) - 32);
        }
    }

    private static int level(byte[] block, int e) {
        int h = e / 128;
        int k = (e / 32) % 4;
        int l = e % 32;
        int low = ((block[QL + 64 * h + 32 * (k % 2) + l] & 0xFF) >> (4 * (k / 2))) & 0xF;
        int high = ((block[QH + 32 * h + l] & 0xFF) >> (2 * k)) & 3;
        return low | (high << 4);
    }

    @Override
    void encodeBlock(float[] x, int xOff, byte[] block, Scratch s) {
        encode(x, xOff, null, 0, block, s);
    }

    /**
     * With importance (ggml's quantize_row_q6_K_impl): each sub-block's scale is make_qx_quants' fit
     * weighted by the importance itself (not mixed with the values, unlike the other K-quants).
     */
    @Override
    void encodeBlockWeighted(float[] x, int xOff, float[] importance, int impOff, byte[] block, Scratch s) {
        encode(x, xOff, importance, impOff, block, s);
    }

    @Override
    public boolean usesImportance() { return true; }

    /** Both paths; {@code weights} null weighs each element by x^2 (the reference quantizer). */
    private static void encode(float[] x, int xOff, float[] weights, int wOff, byte[] block, Scratch s) {
        float maxScale = 0;
        float maxAbsScale = 0;
        for (int sub = 0; sub < 16; sub++) {
            float scale = KQuantMath.makeQxQuants(16, 32, x, xOff + 16 * sub, weights, wOff + 16 * sub, s.levels, 16 * sub);
            s.scales[sub] = scale;
            if (Math.abs(scale) > maxAbsScale) {
                maxAbsScale = Math.abs(scale);
                maxScale = scale;
            }
        }
        if (maxAbsScale < KQuantMath.GROUP_MAX_EPS) {
            return; // ggml writes an all-zero block, d = 0 included
        }
        float iscale = -128f / maxScale;
        float d = KQuantMath.putHalf(block, D, 1 / iscale);
        for (int sub = 0; sub < 16; sub++) {
            block[SCALES + sub] = (byte) Math.min(127, KQuantMath.nearestInt(iscale * s.scales[sub]));
        }
        for (int sub = 0; sub < 16; sub++) {
            float step = d * block[SCALES + sub];
            if (step == 0) continue; // keeps the levels of the search, as ggml does
            for (int i = 16 * sub; i < 16 * sub + 16; i++) {
                s.levels[i] = (byte) (KQuantMath.clamp(KQuantMath.nearestInt(x[xOff + i] / step), -32, 31) + 32);
            }
        }
        for (int e = 0; e < KQuantMath.QK_K; e++) {
            int h = e / 128;
            int k = (e / 32) % 4;
            int l = e % 32;
            int q = s.levels[e];
            block[QL + 64 * h + 32 * (k % 2) + l] |= (byte) ((q & 0xF) << (4 * (k / 2)));
            block[QH + 32 * h + l] |= (byte) ((q >> 4) << (2 * k));
        }
    }
}
