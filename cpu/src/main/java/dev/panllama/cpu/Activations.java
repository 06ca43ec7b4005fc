package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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
    /**
     * Q8_0 only: q with the first half of every block (the values Q4_0's low nibbles multiply) times 16,
     * so that a Q4_0 kernel can take its high nibbles as {@code byte & 0xF0}, 16 times their value, without
     * a shift. Products and pair sums still fit 16 bits (|16·8·127| + |128·127| < 2^15).
     */
    short[] q16 = new short[0];
    /** Q8_0 only: d / 16, the scale that goes with {@link #q16} (exact: a power of two). */
    float[] d16 = new float[0];
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

    /** What the last {@link #prepare} converted, to skip converting the same input again. */
    private float[] lastX = new float[0];
    private int lastN = -1;
    private int lastK;
    private ActivationFormat lastFormat;
    private boolean lastFloats;

    /**
     * Prepares {@code tokens} vectors of {@code k} floats in {@code format}, reusing this object's buffers;
     * with {@code floats}, also {@link #floats()} for the quantized formats. A small input equal to the
     * previous one (the same vector multiplied by Q, K and V, or gate and up) is not converted again.
     * {@code passTokens}: the tokens of the pass, which pick -t or -tb threads.
     */
    void prepare(ActivationFormat format, float[] x, int tokens, int k, boolean floats, WorkerPool pool, int passTokens) {
        this.format = format;
        this.tokens = tokens;
        this.k = k;
        this.x = x;
        if (format == ActivationFormat.F32) return;
        if (k % format.blockSize != 0) {
            throw new IllegalArgumentException("row length " + k + " is not a multiple of " + format.blockSize);
        }
        int n = tokens * k;
        boolean cacheable = n <= CACHE_MAX_FLOATS;
        if (cacheable && n == lastN && k == lastK && format == lastFormat && (lastFloats || !floats)
                && Arrays.equals(x, 0, n, lastX, 0, n)) {
            return;
        }
        if (q.length < n) q = new short[n];
        if (format == ActivationFormat.Q8_0 && q16.length < n) q16 = new short[n];
        int nb = tokens * (k / format.blockSize);
        if (d.length < nb) d = new float[nb];
        if (format == ActivationFormat.Q8_0 && d16.length < nb) d16 = new float[nb];
        int nSums = format == ActivationFormat.Q8_0 ? nb : tokens * (k / 16);
        if (sums.length < nSums) sums = new int[nSums];
        if (floats && rounded.length < n) rounded = new float[n];
        pool.parallelFor(passTokens, tokens, (long) tokens * k, t -> quantizeToken(t, floats));
        if (cacheable) {
            if (lastX.length < n) lastX = new float[n];
            System.arraycopy(x, 0, lastX, 0, n);
            lastN = n;
            lastK = k;
            lastFormat = format;
            lastFloats = floats;
        } else {
            lastN = -1;
        }
    }

    /** Inputs up to this size are remembered to skip converting them twice (generation's vectors). */
    private static final int CACHE_MAX_FLOATS = 1 << 16;

    private void quantizeToken(int t, boolean floats) {
        int bs = format.blockSize;
        int nb = k / bs;
        for (int b = 0; b < nb; b++) {
            int off = t * k + b * bs;
            int blk = t * nb + b;
            if (format == ActivationFormat.Q8_0) quantizeQ8_0(off, blk, floats);
            else quantizeQ8_K(off, blk, t * (k / 16) + b * 16, floats);
        }
    }

    private static final VectorSpecies<Float> F = VecMath.F;
    private static final int FL = VecMath.FL;
    private static final VectorSpecies<Short> SH = VecMath.S_HALF;
    /** Adding and subtracting 1.5·2^23 rounds a float below 2^22 in magnitude to an integer, half to even. */
    private static final float ROUND = 12582912.f;

    private void quantizeQ8_0(int off, int blk, boolean floats) {
        FloatVector m = FloatVector.zero(F);
        for (int i = 0; i < 32; i += FL) m = m.max(FloatVector.fromArray(F, x, off + i).abs());
        float amax = m.reduceLanes(VectorOperators.MAX);
        float d = amax / 127.0f;
        float id = d != 0 ? 127.0f / amax : 0.0f;
        float dd = Float.float16ToFloat(Float.floatToFloat16(d));
        IntVector sum = IntVector.zero(VecMath.I);
        for (int i = 0; i < 32; i += FL) {
            // Math.rint: |x·id| <= 127 here, so the 1.5·2^23 trick rounds exactly as it does.
            FloatVector v = FloatVector.fromArray(F, x, off + i).mul(id).add(ROUND).sub(ROUND);
            IntVector qi = (IntVector) v.convert(VectorOperators.F2I, 0);
            ((ShortVector) qi.convertShape(VectorOperators.I2S, SH, 0)).intoArray(q, off + i);
            IntVector q16i = i < 16 ? qi.lanewise(VectorOperators.LSHL, 4) : qi;
            ((ShortVector) q16i.convertShape(VectorOperators.I2S, SH, 0)).intoArray(q16, off + i);
            sum = sum.add(qi);
            if (floats) v.mul(dd).intoArray(rounded, off + i);
        }
        this.d[blk] = dd;
        d16[blk] = dd * 0.0625f;
        sums[blk] = sum.reduceLanes(VectorOperators.ADD);
    }

    private void quantizeQ8_K(int off, int blk, int sumOff, boolean floats) {
        FloatVector m = FloatVector.zero(F);
        for (int i = 0; i < 256; i += FL) m = m.max(FloatVector.fromArray(F, x, off + i).abs());
        float amax = m.reduceLanes(VectorOperators.MAX);
        if (!(amax > 0)) {           // all zeros (or NaN): the scalar search below would find no maximum
            quantizeQ8_KScalar(off, blk, sumOff, floats);
            return;
        }
        // The signed value of the first element of largest magnitude.
        float max = 0;
        for (int i = 0; i < 256; i++) {
            if (Math.abs(x[off + i]) == amax) {
                max = x[off + i];
                break;
            }
        }
        float iscale = -127.0f / max;
        float dd = 1 / iscale;
        for (int j = 0; j < 256; j += 16) {
            IntVector sum = IntVector.zero(VecMath.I);
            for (int i = j; i < j + 16; i += FL) {
                // ggml's nearest_int is the same 1.5·2^23 trick; then min(127, v).
                FloatVector v = FloatVector.fromArray(F, x, off + i).mul(iscale).add(ROUND).sub(ROUND).min(127f);
                IntVector qi = (IntVector) v.convert(VectorOperators.F2I, 0);
                ((ShortVector) qi.convertShape(VectorOperators.I2S, SH, 0)).intoArray(q, off + i);
                sum = sum.add(qi);
                if (floats) v.mul(dd).intoArray(rounded, off + i);
            }
            sums[sumOff + j / 16] = sum.reduceLanes(VectorOperators.ADD);
        }
        d[blk] = dd;
    }

    private void quantizeQ8_KScalar(int off, int blk, int sumOff, boolean floats) {
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
            if (floats) Arrays.fill(rounded, off, off + 256, 0f);
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
        if (floats) for (int i = 0; i < 256; i++) rounded[off + i] = q[off + i] * d[blk];
    }

    /** ggml's nearest_int: round half to even via the 1.5*2^23 trick (valid for |x| < 2^22). */
    static int nearestInt(float fval) {
        float val = fval + 12582912.f;
        int i = Float.floatToRawIntBits(val);
        return (i & 0x007fffff) - 0x00400000;
    }
}
