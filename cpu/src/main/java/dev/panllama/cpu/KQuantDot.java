package dev.panllama.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.panllama.cpu.IntDot.B128;
import static dev.panllama.cpu.IntDot.I256;
import static dev.panllama.cpu.IntDot.S256;

/**
 * Integer steps shared by the dedicated kernels of the K-quants and the other 8-bit-activation types.
 * Like {@link IntDot} they widen weights to 16 bits and multiply against the widened activations; on
 * top of it they take the shortest route where the value ranges allow (see each method), since these
 * loops run once per weight byte and every instruction shows in the memory-bound matrix-vector speed.
 *
 * <p>A caveat on using them: C2 stops inlining a compilation's calls once it holds about 18,000 IR
 * nodes, and each Vector API call brings several hundred before they fold. Past that budget the Vector
 * API's own methods are still inlined (they are annotated to be), but a helper of ours is left out of
 * line and boxes its vectors, which costs tenfold. Kernels whose loops approach the budget (the
 * K-quants) therefore write these steps out in place, as their comments say, and use only the
 * constants and scalar helpers from here.
 */
final class KQuantDot {
    private KQuantDot() {}

    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(VecMath.LE);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(VecMath.LE);

    /** The low nibble mask of 16-bit lanes. */
    static final ShortVector LOW4 = ShortVector.broadcast(S256, (short) 0x0F);
    /** Shifts that bring byte i % 4 of a broadcast int down to lane i: 8 packed scales into 8 lanes. */
    static final IntVector BYTE_SHIFTS = IntVector.fromArray(I256, new int[]{0, 8, 16, 24, 0, 8, 16, 24}, 0);
    /** Shifts that bring byte i / 2 of a broadcast int down to lane i: one value per sum of 16. */
    static final IntVector PAIR_SHIFTS = IntVector.fromArray(I256, new int[]{0, 0, 8, 8, 16, 16, 24, 24}, 0);
    /** Lanes 4-7 of 8. */
    static final VectorMask<Integer> UPPER_HALF = VectorMask.fromLong(I256, 0xF0);

    /**
     * Sums adjacent pairs of 16-bit lanes into 8 32-bit lanes, for sums that fit 16 bits: with
     * v = hi·2^16 + lo (as unsigned), v + (v << 16) carries hi + lo (mod 2^16) in its upper half, which
     * the arithmetic shift brings down sign-extended. One operation fewer than {@link IntDot#pairSum};
     * callers state why their pair sums stay within ±32767.
     */
    static IntVector pairSumNarrow(ShortVector s) {
        IntVector v = s.reinterpretAsInts();
        return v.add(v.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }

    /**
     * Σ w·a over 32 weights given as two halves of 16 byte lanes and the activations at
     * {@code a[ao..ao+32)}, as 8 32-bit partial sums, where every sum of four products w·a of adjacent
     * lanes fits 16 bits (callers check).
     */
    static IntVector dot32Narrow(ShortVector w0, ShortVector w1, short[] a, int ao) {
        ShortVector p = w0.mul(ShortVector.fromArray(S256, a, ao)).add(w1.mul(ShortVector.fromArray(S256, a, ao + 16)));
        return pairSumNarrow(p);
    }

    /**
     * 16 bytes of the row (loaded by the caller: see VecMath.FAULT_GUARD), zero-extended to 16 shorts.
     * The bit fields of the weights are then taken apart on 16-bit lanes, where AVX2 has shifts (it has none for bytes) and no mask is needed for
     * the top field.
     */
    static ShortVector unsignedBytes(ByteVector b16) {
        return (ShortVector) b16.convertShape(VectorOperators.ZERO_EXTEND_B2S, S256, 0);
    }

    /**
     * The high nibble of each byte. Shifting 16-bit lanes is one instruction on AVX2 where a byte shift
     * is several; the bits that cross from the upper byte into the lower one are masked off.
     */
    static ByteVector highNibbles(ByteVector q) {
        return q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0x0F);
    }

    /**
     * Lane i (of 16) is 16 when bit i of {@code bits} is set, else 0: the fifth bit of Q5_0/Q5_1 levels.
     * Multiplying lane i by 2^(15 − i) moves bit i to bit 15 (higher bits overflow away, lower ones stay
     * below), and a logical shift by 11 brings it to bit 4: three instructions, no masks or compares.
     */
    static ShortVector bitsAsSixteens(int bits) {
        return ShortVector.broadcast(S256, (short) bits).mul(BIT_TO_TOP).lanewise(VectorOperators.LSHR, 11).and((short) 0x10);
    }

    private static final ShortVector BIT_TO_TOP = ShortVector.fromArray(S256, bitToTopFactors(), 0);

    private static short[] bitToTopFactors() {
        short[] f = new short[16];
        for (int i = 0; i < 16; i++) f[i] = (short) (1 << (15 - i));
        return f;
    }

    /** ggml-common.h kvalues_iq4nl: the levels IQ4_NL and IQ4_XS nibbles select (byte lanes, for a shuffle). */
    static final ByteVector IQ4_LEVELS = ByteVector.fromArray(B128,
            new byte[]{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}, 0);

    /** The IQ4 level of each nibble (0..15) in the 16 byte lanes, sign-extended to shorts: one byte shuffle. */
    static ShortVector iq4Levels(ByteVector nibbles) {
        return IntDot.widen(nibbles.selectFrom(IQ4_LEVELS));
    }

    private static final ThreadLocal<int[]> SCALES = ThreadLocal.withInitial(() -> new int[16]);

    /**
     * A per-thread array for one super-block's sub-block scales, fetched once per row. Unpacked there,
     * each scale reaches the vector loop as a single broadcast load instead of shifts, masks and a
     * register-to-vector move per sub-block.
     */
    static int[] scaleScratch() {
        return SCALES.get();
    }

    static float half(MemorySegment w, long off) {
        return Float.float16ToFloat(w.get(VecMath.I16, off));
    }
}
