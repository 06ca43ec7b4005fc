package dev.panllama.tensor.codec;

import java.lang.foreign.MemorySegment;

import static dev.panllama.tensor.codec.QuantMath.I32_LE;
import static dev.panllama.tensor.codec.QuantMath.blocks;
import static dev.panllama.tensor.codec.QuantMath.half;
import static dev.panllama.tensor.codec.QuantMath.putByte;
import static dev.panllama.tensor.codec.QuantMath.putHalf;
import static dev.panllama.tensor.codec.QuantMath.unsignedByte;

/**
 * ggml's "legacy" quants, blocks of 32 values with 4- or 5-bit levels and one scale, and for the _1
 * types a minimum (ggml-common.h block_q4_0, block_q4_1, block_q5_0, block_q5_1):
 * {@code half d; [half m;] [u8 qh[4];] u8 qs[16]}. Byte j of qs holds the low four bits of level j in
 * its low nibble and of level j + 16 in its high one; for 5 bits, bit j of the little-endian word qh
 * is bit 4 of level j. Value j is {@code d * (q - 2^(bits-1))} for _0, {@code d * q + m} for _1.
 *
 * <p>Quantization is ggml's quantize_row_qX_Y_ref, which llama-quantize uses without an imatrix: for
 * _0, d is the signed value of largest magnitude over -2^(bits-1), so that value lands exactly on the
 * lowest level; for _1, m is the block minimum and d spreads [min, max] over 2^bits - 1 steps. With an
 * importance matrix, ggml's quantize_row_qX_Y_impl: weights mixing importance with the row's mean
 * square, then make_qx_quants' weighted scale search (_0) or make_qkx3_quants' grid search of scale
 * and minimum (_1).
 */
public final class LegacyQuantCodec implements BlockCodec {
    public static final LegacyQuantCodec Q4_0 = new LegacyQuantCodec("Q4_0", 4, false);
    public static final LegacyQuantCodec Q4_1 = new LegacyQuantCodec("Q4_1", 4, true);
    public static final LegacyQuantCodec Q5_0 = new LegacyQuantCodec("Q5_0", 5, false);
    public static final LegacyQuantCodec Q5_1 = new LegacyQuantCodec("Q5_1", 5, true);

    static final int BLOCK_SIZE = 32;

    private final String name;
    private final boolean fiveBits;
    private final boolean withMin;
    /** The highest level, 15 or 31. */
    private final int top;
    /** What _0 subtracts from a level (8 or 16); 0 for _1. */
    private final int zero;
    private final int qhOffset;
    private final int qsOffset;
    final int blockBytes;

    private LegacyQuantCodec(String name, int bits, boolean withMin) {
        this.name = name;
        this.fiveBits = bits == 5;
        this.withMin = withMin;
        this.top = (1 << bits) - 1;
        this.zero = withMin ? 0 : 1 << (bits - 1);
        this.qhOffset = withMin ? 4 : 2;
        this.qsOffset = qhOffset + (fiveBits ? 4 : 0);
        this.blockBytes = qsOffset + 16;
    }

    @Override
    public void dequantize(MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        int nb = blocks(name, n, BLOCK_SIZE);
        for (int b = 0; b < nb; b++) {
            long block = offset + (long) b * blockBytes;
            int out = dstOff + b * BLOCK_SIZE;
            float d = half(src, block);
            float m = withMin ? half(src, block + 2) : 0f;
            int qh = fiveBits ? src.get(I32_LE, block + qhOffset) : 0;
            for (int j = 0; j < 16; j++) {
                int q = unsignedByte(src, block + qsOffset + j);
                int q0 = (q & 0x0F) | (((qh >>> j) & 1) << 4);
                int q1 = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
                // _1: d·q + m; _0: d·(q − zero), rounded as ggml rounds it (not d·q − zero·d)
                dst[out + j] = withMin ? q0 * d + m : (q0 - zero) * d;
                dst[out + j + 16] = withMin ? q1 * d + m : (q1 - zero) * d;
            }
        }
    }

    @Override
    public void quantize(float[] src, int srcOff, MemorySegment dst, long offset, int n) {
        int nb = blocks(name, n, BLOCK_SIZE);
        byte[] levels = new byte[BLOCK_SIZE];
        for (int b = 0; b < nb; b++) {
            int in = srcOff + b * BLOCK_SIZE;
            long block = offset + (long) b * blockBytes;
            if (withMin) {
                quantizeWithMin(src, in, levels, dst, block);
            } else {
                quantizeSymmetric(src, in, levels, dst, block);
            }
            storeLevels(levels, dst, block);
        }
    }

    private void quantizeSymmetric(float[] src, int in, byte[] levels, MemorySegment dst, long block) {
        float max = QuantMath.largestMagnitude(src, in, BLOCK_SIZE);
        float d = max / -zero;
        float id = d != 0f ? 1.0f / d : 0f;
        putHalf(dst, block, d);
        // x * id lies in [-zero, zero] up to rounding, so the truncating cast sees [0, 2·zero + 0.5].
        float bias = zero + 0.5f;
        for (int j = 0; j < BLOCK_SIZE; j++) levels[j] = (byte) Math.min(top, (int) (src[in + j] * id + bias));
    }

    private void quantizeWithMin(float[] src, int in, byte[] levels, MemorySegment dst, long block) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < BLOCK_SIZE; j++) {
            float v = src[in + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float d = (max - min) / top;
        float id = d != 0f ? 1.0f / d : 0f;
        putHalf(dst, block, d);
        putHalf(dst, block + 2, min);
        for (int j = 0; j < BLOCK_SIZE; j++) {
            int q = (int) ((src[in + j] - min) * id + 0.5f);
            // ggml clamps Q4_1's level, not Q5_1's: (x - min) * id stays within [0, 31] up to rounding,
            // and a level of 32 would keep only its low five bits, as there.
            levels[j] = (byte) (fiveBits ? q : Math.min(top, q));
        }
    }

    @Override
    public void quantizeRow(float[] src, int srcOff, float[] importance, int impOff, MemorySegment dst, long offset, int n) {
        if (importance == null) {
            quantize(src, srcOff, dst, offset, n);
            return;
        }
        int nb = blocks(name, n, BLOCK_SIZE);
        float sigma2 = WeightedQuantMath.sumOfSquares(src, srcOff, n) / n;
        float[] weights = new float[BLOCK_SIZE];
        byte[] levels = new byte[BLOCK_SIZE];
        byte[] aux = new byte[BLOCK_SIZE];
        float[] min = new float[1];
        for (int b = 0; b < nb; b++) {
            int in = srcOff + b * BLOCK_SIZE;
            long block = offset + (long) b * blockBytes;
            WeightedQuantMath.fillWeights(weights, src, in, importance, impOff + b * BLOCK_SIZE, BLOCK_SIZE, sigma2);
            if (withMin) {
                putHalf(dst, block, KQuantMath.makeQkxQuants(BLOCK_SIZE, top, src, in, weights, levels, 0, min, 0, aux,
                        -0.9f, 0.05f, 36, false));
                putHalf(dst, block + 2, -min[0]);
            } else {
                putHalf(dst, block, KQuantMath.makeQxQuants(BLOCK_SIZE, zero, src, in, weights, 0, levels, 0));
            }
            storeLevels(levels, dst, block);
        }
    }

    private void storeLevels(byte[] levels, MemorySegment dst, long block) {
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int q0 = levels[j];
            int q1 = levels[j + 16];
            putByte(dst, block + qsOffset + j, (q0 & 0x0F) | ((q1 & 0x0F) << 4));
            qh |= ((q0 >>> 4) & 1) << j;
            qh |= ((q1 >>> 4) & 1) << (j + 16);
        }
        if (fiveBits) dst.set(I32_LE, block + qhOffset, qh);
    }

    @Override
    public boolean usesImportance() { return true; }

    @Override
    public boolean canQuantize() { return true; }
}
