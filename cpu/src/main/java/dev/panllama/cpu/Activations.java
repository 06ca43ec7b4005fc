package dev.panllama.cpu;

import java.util.Arrays;

/**
 * A batch of activation vectors prepared for one {@link ActivationFormat}. For the quantized formats
 * the 8-bit values are stored widened to {@code short}, ready to be multiplied against weights
 * widened the same way, with one float scale per block and integer sums (per 32 for Q8_0, per 16 for
 * Q8_K, ggml's bsums) for the types whose blocks carry an offset or minimum.
 *
 * <p>The rounding follows ggml's x86 activation quantizers: Q8_0 rounds half to even and stores its
 * scale as F16 (the dot product sees the F16 value); Q8_K scales by -127/max of the signed
 * largest-magnitude value with nearest-int rounding and keeps a float scale.
 */
final class Activations {
    ActivationFormat format = ActivationFormat.F32;
    int tokens;
    int k;
    float[] x;        // the caller's array, not copied
    float[] rounded = new float[0];   // quantized formats: the values the integer dot sees, q·d, as floats
    short[] q = new short[0];
    float[] d = new float[0];
    int[] sums = new int[0];

    int blocksPerToken() { return k / format.blockSize; }

    /**
     * The activations as the dot product sees them, as floats: x itself for F32, else q·d. Kernels that
     * multiply in float (the codec fallback, the batched path) use these, so every path rounds
     * activations exactly as ggml does for the weight type.
     */
    float[] floats() {
        return format == ActivationFormat.F32 ? x : rounded;
    }

    /** Prepares {@code tokens} vectors of {@code k} floats in {@code format}, reusing this object's buffers. */
    void prepare(ActivationFormat format, float[] x, int tokens, int k, WorkerPool pool) {
        this.format = format;
        this.tokens = tokens;
        this.k = k;
        this.x = x;
        if (format == ActivationFormat.F32) return;
        if (k % format.blockSize != 0) {
            throw new IllegalArgumentException("row length " + k + " is not a multiple of " + format.blockSize);
        }
        int n = tokens * k;
        if (q.length < n) q = new short[n];
        int nb = tokens * (k / format.blockSize);
        if (d.length < nb) d = new float[nb];
        int nSums = format == ActivationFormat.Q8_0 ? nb : tokens * (k / 16);
        if (sums.length < nSums) sums = new int[nSums];
        if (rounded.length < n) rounded = new float[n];
        if (tokens >= 8) {
            pool.parallelFor(tokens, this::quantizeToken);
        } else {
            for (int t = 0; t < tokens; t++) quantizeToken(t);
        }
    }

    private void quantizeToken(int t) {
        int bs = format.blockSize;
        int nb = k / bs;
        for (int b = 0; b < nb; b++) {
            int off = t * k + b * bs;
            int blk = t * nb + b;
            if (format == ActivationFormat.Q8_0) quantizeQ8_0(off, blk);
            else quantizeQ8_K(off, blk, t * (k / 16) + b * 16);
            float dd = d[blk];
            for (int i = 0; i < bs; i++) rounded[off + i] = q[off + i] * dd;
        }
    }

    private void quantizeQ8_0(int off, int blk) {
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[off + i]));
        float d = amax / 127.0f;
        float id = d != 0 ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int i = 0; i < 32; i++) {
            short v = (short) Math.rint(x[off + i] * id);
            q[off + i] = v;
            sum += v;
        }
        this.d[blk] = Float.float16ToFloat(Float.floatToFloat16(d));
        sums[blk] = sum;
    }

    private void quantizeQ8_K(int off, int blk, int sumOff) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < 256; i++) {
            float ax = Math.abs(x[off + i]);
            if (ax > amax) {
                amax = ax;
                max = x[off + i];
            }
        }
        if (amax == 0) {
            d[blk] = 0;
            Arrays.fill(q, off, off + 256, (short) 0);
            Arrays.fill(sums, sumOff, sumOff + 16, 0);
            return;
        }
        float iscale = -127.0f / max;
        for (int i = 0; i < 256; i++) {
            int v = nearestInt(iscale * x[off + i]);
            q[off + i] = (short) Math.min(127, v);
        }
        for (int j = 0; j < 16; j++) {
            int s = 0;
            for (int i = 0; i < 16; i++) s += q[off + j * 16 + i];
            sums[sumOff + j] = s;
        }
        d[blk] = 1 / iscale;
    }

    /** ggml's nearest_int: round half to even via the 1.5*2^23 trick (valid for |x| < 2^22). */
    static int nearestInt(float fval) {
        float val = fval + 12582912.f;
        int i = Float.floatToRawIntBits(val);
        return (i & 0x007fffff) - 0x00400000;
    }
}
