package dev.panllama.tensor.codec;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ggml uses two rounding rules that real weights almost never tell apart (an exact .5 tie is rare),
 * so the oracle files cannot pin them: nearest_int rounds ties to even, roundf away from zero.
 */
class QuantMathTest {

    @Test
    void nearestIntRoundsTiesToEven() {
        assertThat(QuantMath.nearestInt(2.5f)).isEqualTo(2);
        assertThat(QuantMath.nearestInt(3.5f)).isEqualTo(4);
        assertThat(QuantMath.nearestInt(-2.5f)).isEqualTo(-2);
        assertThat(QuantMath.nearestInt(-3.5f)).isEqualTo(-4);
        assertThat(QuantMath.nearestInt(-0.4f)).isEqualTo(0);
        assertThat(QuantMath.nearestInt(31.49f)).isEqualTo(31);
        assertThat(QuantMath.nearestInt(-4194303f)).isEqualTo(-4194303);
    }

    @Test
    void roundHalfAwayFromZeroIsCRoundf() {
        assertThat(QuantMath.roundHalfAwayFromZero(2.5f)).isEqualTo(3);
        assertThat(QuantMath.roundHalfAwayFromZero(-2.5f)).isEqualTo(-3);
        assertThat(QuantMath.roundHalfAwayFromZero(-0.5f)).isEqualTo(-1);
        assertThat(QuantMath.roundHalfAwayFromZero(0.49999997f)).isEqualTo(0);
        assertThat(QuantMath.roundHalfAwayFromZero(-126.5f)).isEqualTo(-127);
    }

    /** amax 127 makes d = 1 exactly, so every x lands on x itself and the ties are real ties. */
    @Test
    void q8_0RoundsTiesAwayFromZeroLikeGgml() {
        float[] x = new float[32];
        x[0] = 127f;
        x[1] = -2.5f;
        x[2] = 2.5f;
        x[3] = -0.5f;
        x[4] = 0.5f;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment q = arena.allocate(34);
            Q8Codec.Q8_0.quantize(x, 0, q, 0, 32);
            assertThat(QuantMath.half(q, 0)).isEqualTo(1f);
            byte[] levels = q.asSlice(2, 5).toArray(ValueLayout.JAVA_BYTE);
            assertThat(levels).containsExactly(127, -3, 3, -1, 1);
        }
    }
}
