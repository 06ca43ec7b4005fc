package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The integer dot-product step the quantized kernels share. AVX2 has no byte dot product the Vector
 * API can reach (no vpmaddubsw), so weights and activations are widened to 16 bits, multiplied lane by
 * lane (products of two 8-bit values and their pairwise sums fit 16 bits), and adjacent 16-bit lanes
 * are then summed into 32-bit lanes by shifting the reinterpreted ints. Fixed 256-bit shapes: native
 * on AVX2 and AVX-512; narrower machines decode quantized rows instead (KernelTable).
 */
final class IntDot {
    private IntDot() {}

    static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
    static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;

    /**
     * 16 signed bytes widened to 16 shorts. Kernels load 128-bit byte vectors: widening the upper half
     * of a 256-bit one compiles to a general lane shuffle, several instructions instead of one.
     */
    static ShortVector widen(ByteVector b16) {
        return (ShortVector) b16.convertShape(VectorOperators.B2S, S256, 0);
    }

    /** Sums adjacent pairs of 16-bit lanes into 8 32-bit lanes. */
    static IntVector pairSum(ShortVector s) {
        IntVector v = s.reinterpretAsInts();
        return v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(v.lanewise(VectorOperators.ASHR, 16));
    }

    /** Σ w·a over 32 values given as two halves of 16 shorts each: 8 partial sums as 32-bit lanes. */
    static IntVector dot32(ShortVector w0, ShortVector w1, short[] a, int ao) {
        ShortVector a0 = ShortVector.fromArray(S256, a, ao);
        ShortVector a1 = ShortVector.fromArray(S256, a, ao + 16);
        return pairSum(w0.mul(a0).add(w1.mul(a1)));
    }
}
