package dev.panllama.tensor.codec;

/**
 * The per-sub-block scale search IQ4_K and IQ4_KS share (iqk_quantize.cpp's
 * quantize_row_iq4_k_impl_bs16 and _bs128 without an imatrix: weights x², ntry = 7): for each
 * candidate inverse scale, assign every value its nearest level on both grid halves of
 * {@link IqkGrid#IQ4} and for both signs of the scale, and keep the weighted least-squares scale of the
 * best assignment, with whether it used the shifted half.
 */
final class Iq4KSearch {
    private static final int TRIES = 7;
    /** ik_llama.cpp's threshold under which a sub-block is all zeros. */
    static final float ZERO_BLOCK = 1e-16f;

    private final int firstLevel = IqkGrid.IQ4.level(0, 0);
    private final int firstShiftedLevel = IqkGrid.IQ4.level(1, 0);

    /** The scale found by the last {@link #fit}. */
    float scale;
    /** Whether that scale goes with the shifted half of the grid. */
    boolean shifted;

    // Running sums of one pass: "p" for the values as they are, "m" for the negated scale.
    private float sumqxP, sumq2P, sumqxM, sumq2M;

    /** Fits the {@code len} values at {@code x[from..]}; read the result from {@link #scale} and {@link #shifted}. */
    void fit(float[] x, int from, int len) {
        float max = QuantMath.largestMagnitude(x, from, len);
        float amax = Math.abs(max);
        shifted = false;
        if (amax < ZERO_BLOCK) {
            scale = 0f;
            return;
        }
        float d = -max / firstLevel;
        pass(x, from, len, 1 / d, 0);
        d = sumqxP / sumq2P;
        float best = d * sumqxP;
        if (sumq2M > 0 && sumqxM * sumqxM > best * sumq2M) {
            d = sumqxM / sumq2M;
            best = d * sumqxM;
        }
        for (int itry = -TRIES; itry <= TRIES; itry++) {
            for (int half = 0; half < 2; half++) {
                int first = half == 0 ? firstLevel : firstShiftedLevel;
                pass(x, from, len, (itry + first) / max, half);
                if (sumq2P > 0 && sumqxP * sumqxP > best * sumq2P) {
                    d = sumqxP / sumq2P;
                    best = d * sumqxP;
                    shifted = half == 1;
                }
                if (sumq2M > 0 && sumqxM * sumqxM > best * sumq2M) {
                    d = sumqxM / sumq2M;
                    best = d * sumqxM;
                    shifted = half == 1;
                }
            }
        }
        scale = d;
    }

    /** One assignment of levels from grid half {@code half} under inverse scale id, and its sums. */
    private void pass(float[] x, int from, int len, float id, int half) {
        sumqxP = sumq2P = sumqxM = sumq2M = 0f;
        for (int j = 0; j < len; j++) {
            float xj = x[from + j];
            float w = xj * xj;
            float al = id * xj;
            float q = IqkGrid.IQ4.level(half, IqkGrid.IQ4.nearest(half, al));
            sumqxP += w * q * xj;
            sumq2P += w * q * q;
            q = IqkGrid.IQ4.level(half, IqkGrid.IQ4.nearest(half, -al));
            sumqxM += w * q * xj;
            sumq2M += w * q * q;
        }
    }
}
