package dev.panllama.tensor.codec;

/**
 * Q4_K and Q5_K: 4.5 and 5.5 bits per weight. A super-block of 256 values is eight sub-blocks of 32,
 * each x = d * scale_j * q - dmin * min_j with 6-bit scale_j, min_j and q in [0, 15] (Q4_K) or
 * [0, 31] (Q5_K).
 *
 * <p>Layout (ggml-common.h block_q4_K, 144 bytes; block_q5_K, 176): d (half) at 0, dmin (half) at 2,
 * the 12 packed scale/min bytes at 4; Q5_K then has 32 bytes of high bits (bit j of byte l is the fifth
 * bit of element 32*j + l); then 128 bytes of low nibbles: byte 32*c + l holds element 64*c + l in its
 * low nibble and element 64*c + 32 + l in its high one. Quantization follows ggml's
 * quantize_row_q4_K_ref / quantize_row_q5_K_ref, the path llama-quantize takes without an imatrix, and
 * with one quantize_row_q4_K_impl / _q5_K_impl (see {@link WeightedQuantMath#encodeScalesAndLevelsK4}).
 */
public final class Q45KBlockCodec extends SuperBlockCodec {
    public static final Q45KBlockCodec Q4_K = new Q45KBlockCodec("Q4_K", false);
    public static final Q45KBlockCodec Q5_K = new Q45KBlockCodec("Q5_K", true);

    private static final int D = 0;
    private static final int DMIN = 2;
    private static final int SCALES = 4;
    private static final int QH = 16;

    private final boolean fiveBits;
    private final int qs;

    private Q45KBlockCodec(String name, boolean fiveBits) {
        super(name, fiveBits ? 176 : 144);
        this.fiveBits = fiveBits;
        this.qs = fiveBits ? 48 : 16;
    }

    @Override
    void decodeBlock(byte[] block, float[] dst, int dstOff) {
        float d = KQuantMath.halfAt(block, D);
        float dmin = KQuantMath.halfAt(block, DMIN);
        for (int sub = 0; sub < 8; sub++) {
            float scale = d * KQuantMath.scaleK4(block, SCALES, sub);
            float min = dmin * KQuantMath.minK4(block, SCALES, sub);
            int at = qs + 32 * (sub / 2);
            int shift = 4 * (sub % 2);
            int out = dstOff + 32 * sub;
            for (int l = 0; l < 32; l++) {
                int low = ((block[at + l] & 0xFF) >> shift) & 0xF;
                int high = fiveBits ? ((block[QH + l] >> sub) & 1) << 4 : 0;
                dst[out + l] = scale * (low + high) - min;
            }
        }
    }

    @Override
    void encodeBlock(float[] x, int xOff, byte[] block, Scratch s) {
        // ggml's parameters for make_qkx2_quants: Q4_K searches 21 grids from -1, Q5_K 16 from -0.5
        if (fiveBits) {
            KQuantMath.encodeK4(x, xOff, block, SCALES, D, DMIN, 31, -0.5f, 15, s);
        } else {
            KQuantMath.encodeK4(x, xOff, block, SCALES, D, DMIN, 15, -1f, 20, s);
        }
        packLevels(block, s.levels);
    }

    @Override
    void encodeBlockWeighted(float[] x, int xOff, float[] importance, int impOff, byte[] block, Scratch s) {
        WeightedQuantMath.encodeScalesAndLevelsK4(x, xOff, importance, impOff, block, SCALES, D, DMIN, fiveBits ? 31 : 15, fiveBits, s);
        packLevels(block, s.levels);
    }

    /** Into a zeroed block: sub-block j's levels in nibble j % 2 of the bytes at 32 * (j / 2), fifth bits at bit j. */
    private void packLevels(byte[] block, byte[] levels) {
        for (int sub = 0; sub < 8; sub++) {
            int at = qs + 32 * (sub / 2);
            int shift = 4 * (sub % 2);
            for (int l = 0; l < 32; l++) {
                int q = levels[32 * sub + l];
                block[at + l] |= (byte) ((q & 0xF) << shift);
                if (fiveBits) block[QH + l] |= (byte) ((q >> 4) << sub);
            }
        }
    }

    @Override
    public boolean usesImportance() { return true; }
}
