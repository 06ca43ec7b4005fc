package dev.panllama.graph;

import java.util.Arrays;

/**
 * How a DeepSeek-style router turns one token's router logits into chosen experts and their weights
 * (llama.cpp's build_moe_ffn with the deepseek2 hyper-parameters):
 * <ol>
 *   <li>probabilities: softmax or sigmoid of the logits ({@code expert_gating_func});</li>
 *   <li>selection scores: the probabilities plus {@code exp_probs_b} when the layer has it. The bias only
 *   steers the choice (DeepSeek-V3's auxiliary-loss-free balancing); weights use the unbiased
 *   probabilities;</li>
 *   <li>group-limited routing when {@code expert_group_count > 1}: each group scores the sum of its two
 *   best selection scores, only the best {@code expert_group_used_count} groups stay eligible;</li>
 *   <li>the {@code expert_used_count} best eligible experts; their probabilities are the weights,
 *   softmaxed among themselves for {@link Gating#SOFTMAX_WEIGHT}, normalised to sum to 1 when
 *   {@code expert_weights_norm}, then multiplied by {@code expert_weights_scale}.</li>
 * </ol>
 * Ties go to the lower expert (or group) index.
 *
 * @param groups     expert groups (0 or 1: no group limit)
 * @param groupsUsed groups a token may pick from
 */
public record ExpertRouting(Gating gating, boolean normalize, float scale, int groups, int groupsUsed) {

    /** {@code ARCH.expert_gating_func}, with llama.cpp's numbering. */
    public enum Gating {
        SOFTMAX(1), SIGMOID(2), SOFTMAX_WEIGHT(3);

        private final int id;

        Gating(int id) { this.id = id; }

        public int id() { return id; }

        /** The ids {@link #byId} takes, for messages. */
        public static final String KNOWN_IDS = "0 (none: softmax), 1 (softmax), 2 (sigmoid) or 3 (softmax over the chosen)";

        public static boolean isKnown(int id) {
            if (id == 0) return true;
            for (Gating g : values()) if (g.id == id) return true;
            return false;
        }

        /** Gating by its GGUF id; 0 (none) is softmax, as llama.cpp assumes for DeepSeek-V2 files without the key. */
        public static Gating byId(int id) {
            if (id == 0) return SOFTMAX;
            for (Gating g : values()) if (g.id == id) return g;
            throw new IllegalArgumentException("expert_gating_func " + id + " is not supported: it must be " + KNOWN_IDS);
        }
    }

    /** llama.cpp clamps the weight sum from below before dividing by it. */
    private static final float MIN_WEIGHT_SUM = 6.103515625e-5f;

    public ExpertRouting {
        if (groups > 1 && (groupsUsed <= 0 || groupsUsed > groups)) {
            throw new IllegalArgumentException("expert_group_used_count " + groupsUsed + " must be in [1, " + groups + "]");
        }
    }

    /** Checks the routing against the expert counts, so that a bad file fails at load. */
    public void validate(int experts, int used) {
        if (used <= 0 || used > experts) throw new IllegalArgumentException("expert_used_count " + used + " must be in [1, " + experts + "]");
        if (groups > 1) {
            if (experts % groups != 0) {
                throw new IllegalArgumentException("expert_count " + experts + " is not a multiple of expert_group_count " + groups);
            }
            if (used > groupsUsed * (experts / groups)) {
                throw new IllegalArgumentException("expert_used_count " + used + " exceeds the experts of " + groupsUsed + " groups");
            }
        }
    }

    /** Per-thread buffers of one router call. */
    static final class Scratch {
        final float[] probs;
        final float[] select;
        final float[] groupScore;
        final boolean[] groupKept;
        final boolean[] eligible;

        Scratch(int experts, int groups) {
            probs = new float[experts];
            select = new float[experts];
            groupScore = new float[Math.max(groups, 1)];
            groupKept = new boolean[Math.max(groups, 1)];
            eligible = new boolean[experts];
        }
    }

    /** Routes {@code tokens} tokens: logits {@code [tokens][experts]} in, ids and weights {@code [tokens][used]} out. */
    public void routeAll(float[] logits, int tokens, int experts, float[] bias, int used, int[] ids, float[] weights) {
        Scratch s = new Scratch(experts, groups);
        for (int t = 0; t < tokens; t++) route(logits, t * experts, experts, bias, used, ids, weights, t * used, s);
    }

    /**
     * Routes one token: {@code logits[off, off + n)} in; the chosen experts, best first, and their weights
     * out at {@code chosen/weight[outOff, outOff + used)}.
     *
     * @param bias the selection bias ({@code exp_probs_b}), or null
     */
    void route(float[] logits, int off, int n, float[] bias, int used, int[] chosen, float[] weight, int outOff, Scratch s) {
        float[] p = s.probs;
        switch (gating) {
            case SOFTMAX -> softmax(logits, off, n, p);
            case SIGMOID -> {
                for (int e = 0; e < n; e++) p[e] = (float) (1.0 / (1.0 + Math.exp(-logits[off + e])));
            }
            case SOFTMAX_WEIGHT -> System.arraycopy(logits, off, p, 0, n);
        }
        float[] sel = s.select;
        for (int e = 0; e < n; e++) sel[e] = bias != null ? p[e] + bias[e] : p[e];
        boolean[] ok = s.eligible;
        Arrays.fill(ok, 0, n, true);
        if (groups > 1) limitToBestGroups(sel, n, ok, s.groupScore, s.groupKept);
        for (int j = 0; j < used; j++) {
            int best = -1;
            for (int e = 0; e < n; e++) if (ok[e] && (best < 0 || sel[e] > sel[best])) best = e;
            ok[best] = false;
            chosen[outOff + j] = best;
            weight[outOff + j] = p[best];
        }
        if (gating == Gating.SOFTMAX_WEIGHT) softmax(weight, outOff, used, weight, outOff);
        if (normalize) {
            float sum = 0;
            for (int j = 0; j < used; j++) sum += weight[outOff + j];
            sum = Math.max(sum, MIN_WEIGHT_SUM);
            for (int j = 0; j < used; j++) weight[outOff + j] /= sum;
        }
        if (scale != 1f) for (int j = 0; j < used; j++) weight[outOff + j] *= scale;
    }

    /** Marks the experts of all but the {@code groupsUsed} best groups ineligible. */
    private void limitToBestGroups(float[] sel, int n, boolean[] ok, float[] score, boolean[] keep) {
        int per = n / groups;
        for (int g = 0; g < groups; g++) {
            float first = Float.NEGATIVE_INFINITY, second = Float.NEGATIVE_INFINITY;
            for (int e = g * per; e < (g + 1) * per; e++) {
                if (sel[e] > first) {
                    second = first;
                    first = sel[e];
                } else if (sel[e] > second) {
                    second = sel[e];
                }
            }
            score[g] = per == 1 ? first : first + second;
        }
        Arrays.fill(keep, false);
        for (int k = 0; k < groupsUsed; k++) {
            int best = -1;
            for (int g = 0; g < groups; g++) if (!keep[g] && (best < 0 || score[g] > score[best])) best = g;
            keep[best] = true;
        }
        for (int g = 0; g < groups; g++) {
            if (!keep[g]) Arrays.fill(ok, g * per, (g + 1) * per, false);
        }
    }

    private static void softmax(float[] x, int off, int n, float[] out) {
        softmax(x, off, n, out, 0);
    }

    /** Max-shifted softmax summed in double, like {@link dev.panllama.backend.Kernels#softmax}. */
    private static void softmax(float[] x, int off, int n, float[] out, int outOff) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            out[outOff + i] = (float) Math.exp(x[off + i] - max);
            sum += out[outOff + i];
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) out[outOff + i] *= inv;
    }
}
