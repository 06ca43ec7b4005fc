package dev.panllama.backend;

/** Ordering of the (expert, input) pairs of {@link Kernels#matmulExperts}. */
public final class ExpertPairs {
    private ExpertPairs() {}

    /**
     * The pair indices [0, pairs) sorted by expert, stably (a counting sort): each expert's pairs are
     * contiguous and in their original order.
     *
     * @throws IllegalArgumentException for an expert outside [0, experts)
     */
    public static int[] byExpert(int[] expert, int pairs, int experts) {
        int[] start = new int[experts + 1];
        for (int p = 0; p < pairs; p++) {
            int e = expert[p];
            if (e < 0 || e >= experts) throw new IllegalArgumentException("expert " + e + " of pair " + p + " outside [0, " + experts + ")");
            start[e + 1]++;
        }
        for (int e = 0; e < experts; e++) start[e + 1] += start[e];
        int[] order = new int[pairs];
        for (int p = 0; p < pairs; p++) order[start[expert[p]]++] = p;
        return order;
    }
}
