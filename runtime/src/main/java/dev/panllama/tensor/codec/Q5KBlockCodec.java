package dev.panllama.tensor.codec;

/**
 * Q5_K: 5.5 bits per weight. Like Q4_K (eight sub-blocks of 32, x = d * scale_j * q - dmin * min_j,
 * 6-bit scale_j and min_j) with q in [0, 31].
 *
 * <p>Layout (ggml-common.h block_q5_K, 176 bytes): d (half) at 0, dmin (half) at 2, the 12 packed
 * scale/min bytes at 4, 32 bytes of high bits at 16 (bit j of byte l is the fifth bit of element
 * 32*j + l), then 128 bytes of low nibbles at 48 arranged as in Q4_K. Quantization follows ggml's
 * quantize_row_q5_K_ref, the path llama-quantize takes without an imatrix.
 */
public final class Q5KBlockCodec extends SuperBlockCodec {
    public static final Q5KBlockCodec INSTANCE = new Q5KBlockCodec();

    static final int BLOCK_BYTES = 176;
    private static final int D = 0;
    private static final int DMIN = 2;
    private static final int SCALES = 4;
    private static final int QH = 16;
    private static final int QS = 48;

    private Q5KBlockCodec() {
        super("Q5_K", BLOCK_BYTES);
    }

    @Override
    void decodeBlock(byte[] block, float[] dst, int dstOff) {
        float d = KQuantMath.halfAt(block, D);
        float dmin = KQuantMath.halfAt(block, DMIN);
        for (int sub = 0; sub < 8; sub++) {
            float scale = d * KQuantMath.scaleK4(block, SCALES, sub);
            float min = dmin * KQuantMath.minK4(block, SCALES, sub);
            int qs = QS + 32 * (sub / 2);
            int shift = 4 * (sub % 2);
            int out = dstOff + 32 * sub;
            for (int l = 0; l < 32; l++) {
                int low = ((block[qs + l] & 0xFF) >> shift) & 0xF;
                int high = ((block[QH + l] >> sub) & 1) << 4;
                dst[out + l] = scale * (low + high) - min;
            }
        }
    }

    @Override
    void encodeBlock(float[] x, int xOff, byte[] block, Scratch s) {
        KQuantMath.encodeK4(x, xOff, block, SCALES, D, DMIN, 31, -0.5f, 15, s);
        packLevels(block, s.levels);
    }

    /** With importance: ggml's quantize_row_q5_K_impl (see {@link WeightedQuantMath#encodeScalesAndLevelsK4}). */
    @Override
    void encodeBlockWeighted(float[] x, int xOff, float[] importance, int impOff, byte[] block, Scratch s) {
        WeightedQuantMath.encodeScalesAndLevelsK4(x, xOff, importance, impOff, block, SCALES, D, DMIN, 31, true, s);
        packLevels(block, s.levels);
    }

    private static void packLevels(byte[] block, byte[] levels) {
        for (int sub = 0; sub < 8; sub++) {
            int qs = QS + 32 * (sub / 2);
            int shift = 4 * (sub % 2);
            for (int l = 0; l < 32; l++) {
                int q = levels[32 * sub + l];
                block[qs + l] |= (byte) ((q & 0xF) << shift);
                block[QH + l] |= (byte) ((q >> 4) << sub);
            }
        }
    }

    @Override
    public boolean usesImportance() { return true; }
}
