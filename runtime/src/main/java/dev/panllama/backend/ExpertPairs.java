package dev.panllama.backend;

import dev.panllama.tensor.Tensor;

/**
 * The (expert, input) pairs of one {@link Kernels#matmulExperts} call, checked and grouped by expert: a
 * stable counting sort, so each expert's pairs are contiguous and keep their order.
 */
public final class ExpertPairs {
    private final int[] expert;
    private final int[] input;
    private final int[] order;
    /** Group g is order[start[g], start[g + 1]). */
    private final int[] start;
    private final int groups;

    private ExpertPairs(int[] expert, int[] input, int[] order, int[] start, int groups) {
        this.expert = expert;
        this.input = input;
        this.order = order;
        this.start = start;
        this.groups = groups;
    }

    /**
     * Groups {@code pairs} pairs of {@code w}'s experts ({@code rows} rows each) and {@code inputs} input vectors.
     *
     * @throws IllegalArgumentException for rows that do not divide w, or an expert or input out of range
     */
    public static ExpertPairs of(Tensor w, int rows, int[] expert, int[] input, int pairs, int inputs) {
        if (rows <= 0 || w.rows() % rows != 0) throw new IllegalArgumentException(rows + " rows per expert do not divide " + w);
        int experts = Math.toIntExact(w.rows() / rows);
        int[] count = new int[experts + 1];
        for (int p = 0; p < pairs; p++) {
            int e = expert[p];
            if (e < 0 || e >= experts) throw new IllegalArgumentException("expert " + e + " of pair " + p + " outside [0, " + experts + ")");
            if (input[p] < 0 || input[p] >= inputs) throw new IllegalArgumentException("input " + input[p] + " of pair " + p + " outside [0, " + inputs + ")");
            count[e + 1]++;
        }
        for (int e = 0; e < experts; e++) count[e + 1] += count[e];
        int[] start = new int[pairs + 1];
        int groups = 0;
        for (int e = 0; e < experts; e++) if (count[e + 1] > count[e]) start[groups++] = count[e];
        start[groups] = pairs;
        int[] order = new int[pairs];
        for (int p = 0; p < pairs; p++) order[count[expert[p]]++] = p;
        return new ExpertPairs(expert, input, order, start, groups);
    }

    public int groups() { return groups; }

    public int start(int g) { return start[g]; }

    public int end(int g) { return start[g + 1]; }

    public int size(int g) { return start[g + 1] - start[g]; }

    /** The expert of group g. */
    public int expert(int g) { return expert[order[start[g]]]; }

    /** The i-th pair in expert order. */
    public int pair(int i) { return order[i]; }

    /** The input vector of pair p. */
    public int input(int p) { return input[p]; }

    /**
     * Group g as one {@link Kernels#matmul} of its expert over its gathered inputs, the outputs scattered
     * back to their pairs: the expert's rows stream once for all of them.
     */
    public void matmulGroup(Kernels kernels, Tensor w, int rows, int g, float[] x, float[] y) {
        int k = Math.toIntExact(w.rowLength());
        int m = size(g);
        float[] xe = new float[m * k];
        float[] ye = new float[m * rows];
        for (int j = 0; j < m; j++) System.arraycopy(x, input[order[start[g] + j]] * k, xe, j * k, k);
        kernels.matmul(w, (long) expert(g) * rows, rows, xe, ye, m);
        for (int j = 0; j < m; j++) System.arraycopy(ye, j * rows, y, order[start[g] + j] * rows, rows);
    }
}
