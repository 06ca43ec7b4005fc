package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.panllama.cpu.IntDot.F256;
import static dev.panllama.cpu.IntDot.I256;

/**
 * The steps the IQk _R4 kernels (IQ2_K_R4, IQ3_K_R4, IQ4_K_R4) share around their type-specific
 * level decoding. A block column starts with the four rows' F16 d's; its extra word holds one
 * "shifted grid" bit per (group g, half h, row k) at bit g of byte 4h + k; scales come as 8 bytes per
 * group, lanes h·4 + k.
 */
final class IqkR4Steps {
    private IqkR4Steps() {}

    /** The rows' d·d_a on their lane pairs (2k, 2k + 1), from scalar conversions (blends). */
    static FloatVector rowScales(MemorySegment w, long blk, float da) {
        long halves = w.get(KQuantDot.I64, blk);
        return FloatVector.broadcast(F256, Float.float16ToFloat((short) halves) * da)
                .blend(Float.float16ToFloat((short) (halves >>> 16)) * da, IqkTables.PAIR_1)
                .blend(Float.float16ToFloat((short) (halves >>> 32)) * da, IqkTables.PAIR_2)
                .blend(Float.float16ToFloat((short) (halves >>> 48)) * da, IqkTables.PAIR_3);
    }

    /** The 8 bytes of {@code packed}, low byte first, as int lanes 0..7 (0..255). */
    static IntVector byteLanes(long packed) {
        return IntVector.broadcast(I256, (int) packed).blend((int) (packed >>> 32), KQuantDot.UPPER_HALF)
                .lanewise(VectorOperators.LSHR, KQuantDot.BYTE_SHIFTS).and(0xFF);
    }

    /**
     * Group g's scales {@code ls} (lanes h·4 + k): stores them twice over into {@code sc[16g ..]} (each
     * half's scales as one load of lane pairs) and returns {@code shifts} plus their shifted halves'
     * scale × activation-sum terms, which the caller multiplies by the type's grid shift.
     */
    static IntVector scalesAndShifts(IntVector ls, long extra, int g, int[] sums, int so, int[] sc, IntVector shifts) {
        ls.rearrange(IqkTables.PAIRS_LOW).intoArray(sc, 16 * g);
        ls.rearrange(IqkTables.PAIRS_HIGH).intoArray(sc, 16 * g + 8);
        IntVector shifted = byteLanes((extra >>> g) & IqkTables.BYTE_LOW_BITS);
        return shifts.add(ls.mul(shifted).mul(IntVector.broadcast(I256, sums[so + 2 * g]).blend(sums[so + 2 * g + 1], KQuantDot.UPPER_HALF)));
    }

    /** Adds one block column's shift terms, times d and the grid shift, into the (h, k)-laned accumulator. */
    static FloatVector addShifts(IntVector shifts, FloatVector d, float gridShift, FloatVector shiftAcc) {
        return ((FloatVector) shifts.convert(VectorOperators.I2F, 0)).fma(d.mul(gridShift).rearrange(IqkTables.PAIRS_TO_QUADS), shiftAcc);
    }

    /** The four rows' results: lane pairs of the main accumulator plus the (h, k) lanes of the shifts. */
    static void store(FloatVector acc, FloatVector shiftAcc, float[] y, int o) {
        for (int k = 0; k < 4; k++) y[o + k] = (acc.lane(2 * k) + acc.lane(2 * k + 1)) + (shiftAcc.lane(k) + shiftAcc.lane(4 + k));
    }
}
