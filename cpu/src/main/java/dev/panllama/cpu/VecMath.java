package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Small vector building blocks shared by the kernels. F and I are the preferred species (128, 256 or
 * 512 bits, whatever the JVM picks); the fixed 256-bit helpers serve kernels written in 256-bit shapes.
 */
final class VecMath {
    private VecMath() {}

    static final VectorSpecies<Float> F = kernelSpecies(FloatVector.SPECIES_PREFERRED.vectorBitSize());
    static final int FL = F.length();
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    /**
     * Read once, and discarded, at the top of every method that loads vectors from a weight segment:
     * {@code w.get(FAULT_GUARD, rowOff)}. A mapped model file truncated while in use makes the next read
     * of a lost page raise SIGBUS. HotSpot turns that into an InternalError (which the tools report as
     * "changed on disk while mapped") only in compiled code that it marked as making unsafe accesses, and
     * C2 (JDK 25) marks a compilation for a scalar segment access but not for a Vector API load: a kernel
     * with vector loads alone crashed the JVM. One scalar read marks the method and every method it is
     * inlined into; C2 drops the load itself. A helper that loads vectors would need its own mark, as C2
     * also compiles small methods alone, and a mark per vector (its checks stay) cost about a fifth of the
     * 512-bit prompt speed: so the shared steps (DequantSteps, KQuantDot, halfToFloat) take vectors their
     * caller loaded, and only the kernels' own methods, marked once per call, read the segment.
     * MappedFileFaultTest checks every kernel, compiled, at each width.
     */
    static final ValueLayout.OfByte FAULT_GUARD = ValueLayout.JAVA_BYTE;
    /** Shorts in half a vector: the input of a widening conversion to FL ints/floats. */
    static final VectorSpecies<Short> S_HALF = ShortVector.SPECIES_128.length() == FL ? ShortVector.SPECIES_128
            : VectorSpecies.of(short.class, jdk.incubator.vector.VectorShape.forBitSize(FL * 16));

    /**
     * The float species of the kernels for a JVM whose preferred vectors have {@code preferredBits}: that
     * width rounded down to 128, 256 or 512 bits. The kernels step through 16- and 32-value blocks a vector at a
     * time, so FL must divide 16; wider or odd SVE lengths (128 to 2048 bits) run at the width below, and a JVM
     * without 128-bit vectors gets 128-bit ones emulated, correct and slow (CpuBackend reports it).
     */
    static VectorSpecies<Float> kernelSpecies(int preferredBits) {
        if (preferredBits >= 512) return FloatVector.SPECIES_512;
        if (preferredBits >= 256) return FloatVector.SPECIES_256;
        return FloatVector.SPECIES_128;
    }

    /**
     * The sum of a vector's lanes in a fixed order. FloatVector.reduceLanes(ADD) leaves the order
     * unspecified (the JIT's intrinsic adds in a tree, the interpreter in sequence), which would make
     * results depend on warm-up; this pairwise order is the same in both.
     */
    static float sum(FloatVector v) {
        if (v.length() == 8) {
            return ((v.lane(0) + v.lane(4)) + (v.lane(2) + v.lane(6))) + ((v.lane(1) + v.lane(5)) + (v.lane(3) + v.lane(7)));
        }
        float s = 0;
        for (int i = 0; i < v.length(); i++) s += v.lane(i);
        return s;
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * FL <= n; i += 2 * FL) {
            acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
            acc1 = FloatVector.fromArray(F, a, ao + i + FL).fma(FloatVector.fromArray(F, b, bo + i + FL), acc1);
        }
        float s = sum(acc0.add(acc1));
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;          // ln 2 split so n*LN2_HI is exact for |n| <= 2^9
    private static final float LN2_LO = -2.12194440e-4f;

    /**
     * e^x lane by lane, to about 2 ulp, from IEEE mul/add/fma and bit operations only. The Vector API's
     * lanewise(EXP) is computed by SVML once compiled but by Math.exp in the interpreter, so its results
     * could depend on warm-up; this gives the same bits either way. Cephes' expf scheme: x = n·ln2 + r
     * with |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n put into the exponent.
     */
    static FloatVector exp(FloatVector x) {
        // Below -104 the result is under half the smallest subnormal; above 89 it overflows (ln FLT_MAX = 88.72).
        FloatVector c = x.max(-104f).min(89f);
        // n = round(c·log2 e): adding and subtracting 1.5·2^23 rounds to the nearest integer (|c·log2 e| < 2^22).
        FloatVector n = c.mul(LOG2E).add(12582912f).sub(12582912f);
        FloatVector r = n.fma(n.broadcast(-LN2_HI), c);
        r = n.fma(n.broadcast(-LN2_LO), r);
        FloatVector p = r.broadcast(1.9875691500e-4f);
        p = p.fma(r, r.broadcast(1.3981999507e-3f));
        p = p.fma(r, r.broadcast(8.3334519073e-3f));
        p = p.fma(r, r.broadcast(4.1665795894e-2f));
        p = p.fma(r, r.broadcast(1.6666665459e-1f));
        p = p.fma(r, r.broadcast(5.0000001201e-1f));
        p = p.fma(r.mul(r), r).add(1f);
        // 2^n as two normal powers of two, so that subnormal results round once, correctly, and large ones overflow.
        IntVector ni = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector pa = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector pb = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(pa).mul(pb);
    }

    private static final float HALF_MAGIC = Float.intBitsToFloat(0x77800000);   // 2^112

    /**
     * FL half-precision values (loaded by the caller with S_HALF: see FAULT_GUARD) as floats, at the preferred width.
     */
    static FloatVector halfToFloat(ShortVector h) {
        return halfBitsToFloat(h, I);
    }

    /**
     * 8 half-precision values (a 128-bit load) as a 256-bit float vector, whatever the preferred
     * width: for the kernels written in fixed 256-bit shapes (the 8 row scales of an _R8 block column).
     */
    static FloatVector halfToFloat8(ShortVector h) {
        return halfBitsToFloat(h, IntVector.SPECIES_256);
    }

    /**
     * (h & 0x7fff) << 13 is the float with the half's exponent and mantissa but a bias of 127 instead of
     * 15; multiplying by 2^112 fixes the bias and handles subnormals too. Infinities and NaNs get their
     * exponent set to all ones. {@code ints} has as many lanes as {@code h}.
     */
    private static FloatVector halfBitsToFloat(ShortVector h, VectorSpecies<Integer> ints) {
        IntVector v = (IntVector) h.convertShape(VectorOperators.ZERO_EXTEND_S2I, ints, 0);
        IntVector magnitude = v.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
        FloatVector f = magnitude.reinterpretAsFloats().mul(HALF_MAGIC);
        IntVector bits = f.reinterpretAsInts();
        VectorMask<Integer> special = v.and(0x7c00).compare(VectorOperators.EQ, 0x7c00);
        bits = bits.blend(magnitude.or(0x7f800000), special);
        return bits.or(v.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** FL bfloat16 values (loaded with S_HALF) as floats (the upper half of a float's bits). */
    static FloatVector bf16ToFloat(ShortVector h) {
        IntVector v = (IntVector) h.convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
