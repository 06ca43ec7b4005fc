package dev.panllama.tensor.codec;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The OCP FP8 formats over all 256 codes of each (OCP OFP8 spec rev 1.0, tables 1 and 2). */
class Fp8Test {

    /** E4M3 from the spec's definition, written independently of the class under test: (-1)^s 2^(e-7) (1 + m/8), subnormals 2^-6 m/8. */
    private static double e4m3Reference(int c) {
        int s = c >>> 7;
        int e = (c >>> 3) & 15;
        int m = c & 7;
        if (e == 15 && m == 7) return Double.NaN;
        double mag = e == 0 ? Math.pow(2, -6) * m / 8.0 : Math.pow(2, e - 7) * (1 + m / 8.0);
        return s == 1 ? -mag : mag;
    }

    @Test
    void e4m3DecodesEveryCodeAsTheSpecDefinesIt() {
        int nans = 0;
        for (int c = 0; c < 256; c++) {
            double want = e4m3Reference(c);
            float got = Fp8.decodeE4M3(c);
            if (Double.isNaN(want)) {
                assertThat(got).as("code 0x%02x", c).isNaN();
                nans++;
            } else {
                assertThat((double) got).as("code 0x%02x", c).isEqualTo(want);
                // -0 keeps its sign
                assertThat(Math.copySign(1f, got)).isEqualTo((c & 0x80) != 0 ? -1f : 1f);
            }
        }
        assertThat(nans).as("only S.1111.111 is NaN; E4M3 has no infinities").isEqualTo(2);
        assertThat(Fp8.decodeE4M3(0x7E)).isEqualTo(448f);
        assertThat(Fp8.decodeE4M3(0xFE)).isEqualTo(-448f);
        assertThat(Fp8.decodeE4M3(0x38)).isEqualTo(1f);
        assertThat(Fp8.decodeE4M3(0x01)).isEqualTo(0x1p-9f);
        assertThat(Fp8.decodeE4M3(0x08)).isEqualTo(0x1p-6f);
        assertThat(Fp8.decodeE4M3(0x07)).isEqualTo(0.875f * 0x1p-6f);
    }

    @Test
    void e4m3EncodesEveryValueBackToItsCode() {
        for (int c = 0; c < 256; c++) {
            float v = Fp8.decodeE4M3(c);
            int back = Fp8.encodeE4M3(v) & 0xFF;
            if (Float.isNaN(v)) {
                assertThat(back & 0x7F).as("NaN code 0x%02x", c).isEqualTo(0x7F);
            } else {
                assertThat(back).as("code 0x%02x (%s)", c, v).isEqualTo(c);
            }
        }
    }

    @Test
    void e4m3RoundsToNearestEvenAndSaturates() {
        // Between every two neighbouring positive codes: just below, at and just above the midpoint.
        for (int c = 0; c < 0x7E; c++) {
            float lo = Fp8.decodeE4M3(c);
            float hi = Fp8.decodeE4M3(c + 1);
            float mid = (lo + hi) / 2;   // exact: both have few significant bits
            int even = (c & 1) == 0 ? c : c + 1;
            assertThat(Fp8.encodeE4M3(mid) & 0xFF).as("tie between 0x%02x and 0x%02x", c, c + 1).isEqualTo(even);
            assertThat(Fp8.encodeE4M3(Math.nextDown(mid)) & 0xFF).isEqualTo(c);
            assertThat(Fp8.encodeE4M3(Math.nextUp(mid)) & 0xFF).isEqualTo(c + 1);
            assertThat(Fp8.encodeE4M3(-mid) & 0xFF).isEqualTo(0x80 | even);
        }
        assertThat(Fp8.encodeE4M3(449f) & 0xFF).isEqualTo(0x7E);
        assertThat(Fp8.encodeE4M3(1e9f) & 0xFF).isEqualTo(0x7E);
        assertThat(Fp8.encodeE4M3(Float.POSITIVE_INFINITY) & 0xFF).isEqualTo(0x7E);
        assertThat(Fp8.encodeE4M3(Float.NEGATIVE_INFINITY) & 0xFF).isEqualTo(0xFE);
        assertThat(Fp8.encodeE4M3(Float.NaN) & 0xFF).isEqualTo(0x7F);
        assertThat(Fp8.encodeE4M3(0x1p-11f) & 0xFF).as("a quarter of the smallest subnormal rounds to 0").isZero();
        assertThat(Fp8.encodeE4M3(-0f) & 0xFF).isEqualTo(0x80);
    }

    /** E5M2 is the upper byte of an IEEE half, so Java's half conversion is an independent oracle. */
    @Test
    void e5m2DecodesEveryCodeAsTheUpperByteOfAHalf() {
        int nans = 0;
        for (int c = 0; c < 256; c++) {
            float want = Float.float16ToFloat((short) (c << 8));
            float got = Fp8.decodeE5M2(c);
            if (Float.isNaN(want)) {
                assertThat(got).isNaN();
                nans++;
            } else {
                assertThat(Float.floatToRawIntBits(got)).as("code 0x%02x", c).isEqualTo(Float.floatToRawIntBits(want));
            }
        }
        assertThat(nans).isEqualTo(6);
        assertThat(Fp8.decodeE5M2(0x7B)).isEqualTo(57344f);
        assertThat(Fp8.decodeE5M2(0x7C)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Fp8.decodeE5M2(0xFC)).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(Fp8.decodeE5M2(0x01)).isEqualTo(0x1p-16f);
        assertThat(Fp8.decodeE5M2(0x3C)).isEqualTo(1f);
    }
}
