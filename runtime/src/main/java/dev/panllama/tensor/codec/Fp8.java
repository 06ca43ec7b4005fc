package dev.panllama.tensor.codec;

/**
 * The two 8-bit float formats of the OCP "8-bit Floating Point Specification (OFP8)" rev 1.0, as
 * Hugging Face checkpoints store them ({@code F8_E4M3} = torch.float8_e4m3fn, {@code F8_E5M2} =
 * torch.float8_e5m2).
 *
 * <ul>
 * <li>E4M3: sign, 4 exponent bits (bias 7), 3 mantissa bits. No infinities; S.1111.111 is NaN, so
 *     the largest magnitude is 1.75 * 2^8 = 448; subnormals are m/8 * 2^-6.</li>
 * <li>E5M2: sign, 5 exponent bits (bias 15), 2 mantissa bits: IEEE-like, with infinities
 *     (S.11111.00) and NaNs (S.11111.xx, xx != 0); largest finite 57344. It is the upper byte of an
 *     IEEE half.</li>
 * </ul>
 */
public final class Fp8 {
    private Fp8() {}

    /** The largest finite E4M3 magnitude. */
    public static final float E4M3_MAX = 448f;

    private static final float[] E4M3 = new float[256];
    private static final float[] E5M2 = new float[256];

    static {
        for (int c = 0; c < 256; c++) {
            E4M3[c] = computeE4M3(c);
            E5M2[c] = computeE5M2(c);
        }
    }

    private static float computeE4M3(int c) {
        float sign = (c & 0x80) != 0 ? -1f : 1f;
        int exp = (c >>> 3) & 0xF;
        int mant = c & 0x7;
        if (exp == 0xF && mant == 0x7) return Float.NaN;
        if (exp == 0) return sign * Math.scalb(mant / 8f, -6);
        return sign * Math.scalb(1f + mant / 8f, exp - 7);
    }

    private static float computeE5M2(int c) {
        float sign = (c & 0x80) != 0 ? -1f : 1f;
        int exp = (c >>> 2) & 0x1F;
        int mant = c & 0x3;
        if (exp == 0x1F) return mant == 0 ? sign * Float.POSITIVE_INFINITY : Float.NaN;
        if (exp == 0) return sign * Math.scalb(mant / 4f, -14);
        return sign * Math.scalb(1f + mant / 4f, exp - 15);
    }

    /** The value of E4M3 code {@code code & 0xFF} (exact in a float). */
    public static float decodeE4M3(int code) {
        return E4M3[code & 0xFF];
    }

    /** The value of E5M2 code {@code code & 0xFF} (exact in a float). */
    public static float decodeE5M2(int code) {
        return E5M2[code & 0xFF];
    }

    /**
     * The E4M3 code nearest to {@code x}, ties to even. The conversion saturates, as the OCP spec allows
     * and as weight quantizers do: magnitudes beyond 448 (infinities included) become +-448; NaN becomes
     * S.1111.111.
     */
    public static byte encodeE4M3(float x) {
        int bits = Float.floatToRawIntBits(x);
        int sign = (bits >>> 24) & 0x80;
        float a = Math.abs(x);
        if (Float.isNaN(a)) return (byte) (sign | 0x7F);
        if (a >= E4M3_MAX) return (byte) (sign | 0x7E);
        if (a < 0x1p-6f) {
            // Subnormal range: units of 2^-9 (scaling by a power of two is exact); 8 units is the
            // smallest normal, code 0x08, so a rounding carry lands on the right code.
            return (byte) (sign | (int) Math.rint(a * 512f));
        }
        int fb = Float.floatToRawIntBits(a);
        int biased = ((fb >>> 23) & 0xFF) - 127 + 7;
        int mant = fb & 0x7FFFFF;
        int code = (biased << 3) | (mant >>> 20);
        int rest = mant & 0xFFFFF;
        // Round the 20 dropped mantissa bits to nearest even; a carry moves into the exponent field.
        if (rest > 0x80000 || (rest == 0x80000 && (code & 1) != 0)) code++;
        return (byte) (sign | code);
    }
}
