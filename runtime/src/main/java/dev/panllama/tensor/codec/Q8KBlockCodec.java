package dev.panllama.tensor.codec;

/**
 * Q8_K: ggml's intermediate format for the activations of K-quant dot products (never a weight
 * type in files). One float scale per 256 values, x = d * q with q in [-127, 127], plus the sum of
 * each 16 quants for the dot-product kernels.
 *
 * <p>Layout (ggml-common.h block_q8_K, 292 bytes): d (float32) at 0, 256 int8 quants at 4, sixteen
 * int16 sums at 260, all little-endian. Quantization follows ggml's quantize_row_q8_K_ref; where
 * ggml leaves the sums of an all-zero block unwritten, they are written as zero here.
 */
public final class Q8KBlockCodec extends SuperBlockCodec {
    public static final Q8KBlockCodec INSTANCE = new Q8KBlockCodec();

    static final int BLOCK_BYTES = 292;
    private static final int D = 0;
    private static final int QS = 4;
    private static final int BSUMS = 260;

    private Q8KBlockCodec() {
        super("Q8_K", BLOCK_BYTES);
    }

    @Override
    void decodeBlock(byte[] block, float[] dst, int dstOff) {
        float d = Float.intBitsToFloat((block[D] & 0xFF) | (block[D + 1] & 0xFF) << 8
                | (block[D + 2] & 0xFF) << 16 | block[D + 3] << 24);
        for (int e = 0; e < KQuantMath.QK_K; e++) {
            dst[dstOff + e] = d * block[QS + e];
        }
    }

    @Override
    void encodeBlock(float[] x, int xOff, byte[] block, Scratch s) {
        float max = QuantMath.largestMagnitude(x, xOff, KQuantMath.QK_K);
        float amax = Math.abs(max);
        if (amax == 0) {
            return; // d, quants and sums all zero
        }
        // -127, not -128, so that no quant is -128 (ggml: needed by its IQ2_XXS AVX kernels).
        float iscale = -127f / max;
        for (int e = 0; e < KQuantMath.QK_K; e++) {
            block[QS + e] = (byte) Math.min(127, KQuantMath.nearestInt(iscale * x[xOff + e]));
        }
        for (int group = 0; group < 16; group++) {
            int sum = 0;
            for (int e = 16 * group; e < 16 * group + 16; e++) sum += block[QS + e];
            block[BSUMS + 2 * group] = (byte) sum;
            block[BSUMS + 2 * group + 1] = (byte) (sum >> 8);
        }
        int d = Float.floatToRawIntBits(1 / iscale);
        block[D] = (byte) d;
        block[D + 1] = (byte) (d >> 8);
        block[D + 2] = (byte) (d >> 16);
        block[D + 3] = (byte) (d >> 24);
    }
}
