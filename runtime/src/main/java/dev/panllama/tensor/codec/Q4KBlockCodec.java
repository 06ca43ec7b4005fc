package dev.panllama.tensor.codec;

import static dev.panllama.tensor.codec.KQuantMath.QK_K;

/**
 * Q4_K: 4.5 bits per weight. A super-block of 256 values is eight sub-blocks of 32, each
 * x = d * scale_j * q - dmin * min_j with q in [0, 15] and 6-bit scale_j, min_j.
 *
 * <p>Layout (ggml-common.h block_q4_K, 144 bytes): d (half) at 0, dmin (half) at 2, the 12 packed
 * scale/min bytes at 4, then 128 bytes of nibbles at 16: byte 32*c + l holds element 64*c + l in its
 * low nibble and element 64*c + 32 + l in its high nibble. Quantization follows ggml's
 * quantize_row_q4_K_ref, the path llama-quantize takes without an imatrix.
 */
public final class Q4KBlockCodec extends SuperBlockCodec {
    public static final Q4KBlockCodec INSTANCE = new Q4KBlockCodec();

    static final int BLOCK_BYTES = 144;
    private static final int D = 0;
    private static final int DMIN = 2;
    private static final int SCALES = 4;
    private static final int QS = 16;

    private Q4KBlockCodec() {
        super("Q4_K", BLOCK_BYTES);
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
                dst[out + l] = scale * (((block[qs + l] & 0xFF) >> shift) & 0xF) - min;
            }
        }
    }

    @Override
    void encodeBlock(float[] x, int xOff, byte[] block, Scratch s) {
        KQuantMath.encodeK4(x, xOff, block, SCALES, D, DMIN, 15, -1f, 20, s);
        packLevels(block, s.levels);
    }

    /** With importance: ggml's quantize_row_q4_K_impl (see {@link WeightedQuantMath#encodeScalesAndLevelsK4}). */
    @Override
    void encodeBlockWeighted(float[] x, int xOff, float[] importance, int impOff, byte[] block, Scratch s) {
        WeightedQuantMath.encodeScalesAndLevelsK4(x, xOff, importance, impOff, block, SCALES, D, DMIN, 15, false, s);
        packLevels(block, s.levels);
    }

    private static void packLevels(byte[] block, byte[] levels) {
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                block[QS + 32 * c + l] = (byte) (levels[64 * c + l] | (levels[64 * c + 32 + l] << 4));
            }
        }
    }

    @Override
    public boolean usesImportance() { return true; }
}
