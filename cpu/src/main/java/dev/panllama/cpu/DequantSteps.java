package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;


import static dev.panllama.cpu.IntDot.I256;

/**
 * The steps of the vectorized dequantizers, 8 values at a time: 8 bytes widened to 8 int lanes (one
 * instruction), the bit fields taken apart on 32-bit lanes, then converted to float. (Converting any
 * but the lowest part of a wider vector compiles to a general shuffle on AVX2, so every step starts
 * from its own 8-byte load.) The float expressions repeat the scalar codecs' operations in the same
 * order — Java never fuses a multiply and an add on its own — so the results equal theirs bit for bit.
 * The steps take vectors their caller loaded: a helper that loads from the weight segment itself needs its
 * own fault mark (VecMath.FAULT_GUARD), and one per 8 bytes cost a fifth of the prompt speed.
 */
final class DequantSteps {
    private DequantSteps() {}

    static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;

    /** 8 bytes ({@link #B64}), zero-extended to ints. */
    static IntVector unsigned8(ByteVector b8) {
        return (IntVector) b8.convertShape(VectorOperators.ZERO_EXTEND_B2I, I256, 0);
    }

    /** 8 bytes ({@link #B64}), sign-extended to ints. */
    static IntVector signed8(ByteVector b8) {
        return (IntVector) b8.convertShape(VectorOperators.B2I, I256, 0);
    }

    /** The IQ4 levels selected by the low nibbles of 8 byte lanes, as ints. */
    static IntVector iq4Levels8(ByteVector b8) {
        ByteVector idx = ((ByteVector) b8.reinterpretShape(IntDot.B128, 0)).and((byte) 0x0F);
        return (IntVector) idx.selectFrom(KQuantDot.IQ4_LEVELS).convertShape(VectorOperators.B2I, I256, 0);
    }

    private static final IntVector IOTA = IntVector.fromArray(I256, new int[]{0, 1, 2, 3, 4, 5, 6, 7}, 0);

    /** Lane i is 16 when bit {@code first + i} of {@code bits} is set, else 0 (the fifth bit of Q5_0/Q5_1). */
    static IntVector bitsAsSixteens8(int bits, int first) {
        return IntVector.broadcast(I256, bits).lanewise(VectorOperators.LSHR, IOTA.add(first)).and(1).lanewise(VectorOperators.LSHL, 4);
    }

    static FloatVector toFloat(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    /** dst[o, o + 8) = q · scale. */
    static void scaled(IntVector q, float scale, float[] dst, int o) {
        toFloat(q).mul(scale).intoArray(dst, o);
    }

    /** dst[o, o + 8) = q · scale − min (the K-quants with mins). */
    static void scaledMinus(IntVector q, float scale, float min, float[] dst, int o) {
        toFloat(q).mul(scale).sub(min).intoArray(dst, o);
    }

    /** dst[o, o + 8) = q · d + m (Q4_1, Q5_1). */
    static void scaledPlus(IntVector q, float d, float m, float[] dst, int o) {
        toFloat(q).mul(d).add(m).intoArray(dst, o);
    }
}
