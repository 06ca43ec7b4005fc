package dev.panllama.cpu;

import dev.panllama.tensor.codec.IqkGrid;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;

import java.util.Arrays;

import static dev.panllama.cpu.IntDot.B128;
import static dev.panllama.cpu.IntDot.I256;

/**
 * Constants of the kernels for ik_llama.cpp's IQ*_K types: the standard halves of their level grids as
 * 16-byte shuffle tables (a level is one byte shuffle of its index; the shifted half, the standard
 * levels plus {@link IqkGrid#shift()}, is applied through the activations' sums per 16), the lane shifts
 * and shuffles that unpack packed scales and spread values over the lanes of row groups, and a
 * per-thread scale array. Only constants and scalar helpers live here: the kernels write their vector
 * steps in place (see {@link KQuantDot} on C2's inlining budget).
 */
final class IqkTables {
    private IqkTables() {}

    static final ByteVector IQ2 = table(IqkGrid.IQ2, 0);
    static final ByteVector IQ3 = table(IqkGrid.IQ3, 0);
    static final ByteVector IQ4 = table(IqkGrid.IQ4, 0);
    /** IQ5's 32 standard levels as two tables: indices 0..15 and 16..31. */
    static final ByteVector IQ5_LOW = table(IqkGrid.IQ5, 0);
    static final ByteVector IQ5_HIGH = table(IqkGrid.IQ5, 16);
    /** IQ6's 64 standard levels as four tables of 16. */
    static final ByteVector IQ6_0 = table(IqkGrid.IQ6, 0);
    static final ByteVector IQ6_1 = table(IqkGrid.IQ6, 16);
    static final ByteVector IQ6_2 = table(IqkGrid.IQ6, 32);
    static final ByteVector IQ6_3 = table(IqkGrid.IQ6, 48);

    /** Lane i: i. */
    static final IntVector IOTA = IntVector.fromArray(I256, new int[]{0, 1, 2, 3, 4, 5, 6, 7}, 0);
    /** Lane i: 4·i, the nibbles of an int into 8 lanes. */
    static final IntVector NIBBLE_SHIFTS = IntVector.fromArray(I256, new int[]{0, 4, 8, 12, 16, 20, 24, 28}, 0);
    /** Lane i: 2·i, the 2-bit fields of the low 16 bits of an int into 8 lanes. */
    static final IntVector PAIR_BIT_SHIFTS = IntVector.fromArray(I256, new int[]{0, 2, 4, 6, 8, 10, 12, 14}, 0);
    /** Lanes 2i and 2i + 1 take lane i: 4 values of a 4-row group onto the lane pairs its pair sums land in. */
    static final VectorShuffle<Float> ROW_PAIRS = VectorShuffle.fromValues(IntDot.F256, 0, 0, 1, 1, 2, 2, 3, 3);
    /** The same for rows 4..7 of an 8-row group. */
    static final VectorShuffle<Float> ROW_PAIRS_HIGH = VectorShuffle.fromValues(IntDot.F256, 4, 4, 5, 5, 6, 6, 7, 7);
    /** Lanes 2..3, 4..5 and 6..7 of 8: blending four broadcasts gives the lane pairs of a 4-row group. */
    static final VectorMask<Float> PAIR_1 = VectorMask.fromLong(IntDot.F256, 0x0C);
    static final VectorMask<Float> PAIR_2 = VectorMask.fromLong(IntDot.F256, 0x30);
    static final VectorMask<Float> PAIR_3 = VectorMask.fromLong(IntDot.F256, 0xC0);
    /** Lanes k and 4 + k take lane 2k: from the lane pairs of a 4-row group to the (half, row) lanes of its scale chunks. */
    static final VectorShuffle<Float> PAIRS_TO_QUADS = VectorShuffle.fromValues(IntDot.F256, 0, 2, 4, 6, 0, 2, 4, 6);
    /** Lanes 2i and 2i + 1 take lane i of an int vector: per-32 values onto the two sums of 16 they cover. */
    static final VectorShuffle<Integer> PAIRS_LOW = VectorShuffle.fromValues(I256, 0, 0, 1, 1, 2, 2, 3, 3);
    static final VectorShuffle<Integer> PAIRS_HIGH = VectorShuffle.fromValues(I256, 4, 4, 5, 5, 6, 6, 7, 7);



    /**
     * Quad j of 16 activations (shorts 4j .. 4j + 3, one 64-bit lane) repeated in all four 64-bit lanes
     * (one vpermq): the 4 activations that 4 interleaved rows share, against 16 lanes of 4 rows × 4 weights.
     */
    static final VectorShuffle<Long> QUAD0 = VectorShuffle.fromValues(LongVector.SPECIES_256, 0, 0, 0, 0);
    static final VectorShuffle<Long> QUAD1 = VectorShuffle.fromValues(LongVector.SPECIES_256, 1, 1, 1, 1);
    static final VectorShuffle<Long> QUAD2 = VectorShuffle.fromValues(LongVector.SPECIES_256, 2, 2, 2, 2);
    static final VectorShuffle<Long> QUAD3 = VectorShuffle.fromValues(LongVector.SPECIES_256, 3, 3, 3, 3);

    /** Bit 0 of each byte of a long. */
    static final long BYTE_LOW_BITS = 0x0101_0101_0101_0101L;

    private static final ThreadLocal<int[]> GROUP_SCALES = ThreadLocal.withInitial(() -> new int[128]);

    /**
     * A per-thread array for the 64 scales of a 4-row group's block column, each stored twice in a row:
     * the scales of one 16-value half (g, h) of the 4 rows are then one 8-lane load that matches the lane
     * pairs (2k, 2k + 1) the rows' pair sums land in.
     */
    static int[] groupScales() {
        return GROUP_SCALES.get();
    }

    private static ByteVector table(IqkGrid grid, int from) {
        byte[] t = Arrays.copyOfRange(grid.levels(), from, from + 16);   // grids of fewer than 16 levels: the rest unused
        return ByteVector.fromArray(B128, t, 0);
    }
}
