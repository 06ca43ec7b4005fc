package dev.panllama.tensor.codec;

/**
 * The non-linear level grids of ik_llama.cpp's IQ*_K types (ggml-common.h iq2nl_values,
 * iq3nl_values, iq4k_values, iq5nl_values, iq6nl_values). Each grid has a standard half and a
 * shifted half that a per-sub-block bit of the block's {@code extra} field selects; in every grid the
 * shifted levels are the standard ones plus a constant ({@link #shift()}), which kernels use to
 * apply the bit through the activations' sums instead of a second lookup.
 *
 * <p>IQ6_K: ik_llama.cpp's CPU {@code dequantize_row_iq6_k} evaluates the cubic these integers were
 * rounded from (within 0.49 of a level); its quantizer, its CPU and CUDA matrix kernels and its CUDA
 * dequantizer all use the integer levels, and so does panllama.
 */
public enum IqkGrid {
    IQ2(new byte[]{-31, -13, 1, 17, -26, -8, 6, 22}),
    IQ3(new byte[]{-63, -40, -23, -10, 1, 13, 28, 47, -59, -36, -19, -6, 5, 17, 32, 51}),
    IQ4(new byte[]{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
            -123, -100, -79, -61, -45, -31, -18, -6, 5, 17, 29, 42, 57, 73, 93, 117}),
    IQ5(new byte[]{-126, -114, -103, -92, -83, -74, -65, -57, -50, -43, -36, -30, -24, -18, -12, -6,
            -1, 5, 11, 17, 23, 29, 36, 43, 51, 59, 68, 77, 87, 97, 109, 121,
            -124, -112, -101, -90, -81, -72, -63, -55, -48, -41, -34, -28, -22, -16, -10, -4,
            1, 7, 13, 19, 25, 31, 38, 45, 53, 61, 70, 79, 89, 99, 111, 123}),
    IQ6(new byte[]{-127, -121, -115, -109, -104, -98, -93, -88, -84, -79, -74, -70, -66, -62, -58, -54,
            -51, -47, -44, -40, -37, -34, -31, -28, -25, -22, -19, -16, -13, -11, -8, -5,
            -2, 0, 3, 6, 9, 12, 14, 17, 20, 23, 27, 30, 33, 36, 40, 44,
            47, 51, 55, 59, 63, 68, 72, 77, 82, 87, 92, 98, 103, 109, 115, 121,
            -126, -120, -114, -108, -103, -97, -92, -87, -83, -78, -73, -69, -65, -61, -57, -53,
            -50, -46, -43, -39, -36, -33, -30, -27, -24, -21, -18, -15, -12, -10, -7, -4,
            -1, 1, 4, 7, 10, 13, 15, 18, 21, 24, 28, 31, 34, 37, 41, 45,
            48, 52, 56, 60, 64, 69, 73, 78, 83, 88, 93, 99, 104, 110, 116, 122});

    private final byte[] levels;
    private final int size;
    private final int shift;

    IqkGrid(byte[] levels) {
        this.levels = levels;
        this.size = levels.length / 2;
        this.shift = levels[size] - levels[0];
        for (int i = 0; i < size; i++) {
            if (levels[size + i] - levels[i] != shift) throw new AssertionError(name() + " halves differ by more than a constant");
        }
    }

    /** Levels per half: 4, 8, 16, 32 or 64. */
    public int size() { return size; }

    /** What the shifted half adds to every standard level: 5, 4, 4, 2, 1. */
    public int shift() { return shift; }

    /** The level index {@code q} selects, in the shifted half when {@code shifted} is 1. */
    public int level(int shifted, int q) {
        return levels[shifted * size + q];
    }

    /** Both halves, standard then shifted (a copy). */
    public byte[] levels() {
        return levels.clone();
    }

    /**
     * The index in grid half {@code half} (1: shifted) of the level nearest x, ties to the upper level:
     * what ik_llama.cpp's best_index_iq4nl lookup table and its smaller grids' comparisons compute.
     */
    int nearest(int half, float x) {
        int base = half * size;
        if (x <= levels[base]) return 0;
        int last = size - 1;
        if (x >= levels[base + last]) return last;
        int lo = 0;
        int hi = last;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (x < levels[base + mid]) hi = mid; else lo = mid;
        }
        return x - levels[base + lo] < levels[base + hi] - x ? lo : hi;
    }
}
