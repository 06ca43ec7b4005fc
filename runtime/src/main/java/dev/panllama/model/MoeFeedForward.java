package dev.panllama.model;

import dev.panllama.backend.Kernels;
import dev.panllama.scheduler.ExecutionPlan;
import dev.panllama.scheduler.SplitBuffers;
import dev.panllama.tensor.Tensor;

/**
 * A routed mixture-of-experts feed-forward (Mixtral-style llama experts and qwen3moe): router logits →
 * softmax over all experts → the top {@code expert_used_count} → weights renormalised to sum to 1
 * (llama.cpp's build_moe_ffn with norm_w for both architectures). Only the selected experts are
 * computed: the batch's tokens are grouped by expert so each expert's rows stream once per batch.
 *
 * <p>Expert tensors are 3-D {@code [ne0, ne1, n_expert]}: expert e is rows {@code [e*ne1, (e+1)*ne1)}.
 * The per-pair outputs (the scratch) are host arrays that the expert tensors' devices read and write
 * directly.
 */
final class MoeFeedForward {
    private MoeFeedForward() {}

    static final class Scratch {
        final float[] router;      // [tokens][nExpert]
        final int[] chosen;        // [tokens][used]: the (token, slot) pairs' experts
        final float[] weight;      // [tokens][used]
        final int[] token;         // [tokens][used]: each pair's token
        final int[] pair;          // 0, 1, 2, ...: the down projection's input of each pair is its own
        final float[] ge, ue, de;  // [tokens][used][ff], [tokens][used][ff], [tokens][used][dim]: per pair

        Scratch(ModelConfig c, int tokens) {
            int used = c.expertUsedCount();
            int pairs = tokens * used;
            router = new float[tokens * c.expertCount()];
            chosen = new int[pairs];
            weight = new float[pairs];
            token = new int[pairs];
            pair = new int[pairs];
            for (int p = 0; p < pairs; p++) {
                token[p] = p / used;
                pair[p] = p;
            }
            ge = new float[pairs * c.expertFeedForwardLength()];
            ue = new float[pairs * c.expertFeedForwardLength()];
            de = new float[pairs * c.embeddingLength()];
        }
    }

    /**
     * Routes and runs the experts of one layer: XB (the normed input) in, XB2 (the weighted sum of the
     * chosen experts' outputs) out, on the expert tensors' device. The router runs on its own device;
     * expert selection is plain Java on the host.
     */
    static void forward(ExecutionPlan plan, ExecutionPlan.LayerDevices d, SplitBuffers b, ModelConfig c,
                        ModelWeights.Layer layer, int n, Scratch s) {
        int dim = c.embeddingLength();
        int nExp = c.expertCount();
        int used = c.expertUsedCount();
        int ff = c.expertFeedForwardLength();
        plan.kernels(d.router()).matmul(layer.expertRouter(), b.in(d.router(), Transformer.XB), s.router, n);
        for (int t = 0; t < n; t++) route(s.router, t * nExp, nExp, used, s.chosen, s.weight, t * used);

        float[] in = b.in(d.expGate(), Transformer.XB);
        float[] out = b.out(d.expDown(), Transformer.XB2, n * dim);
        runExperts(plan.kernels(d.expGate()), plan.kernels(d.expUp()), plan.kernels(d.expDown()),
                layer.expertGate(), layer.expertUp(), layer.expertDown(), in, out, n, dim, ff, used, s);
    }

    /**
     * The chosen experts ({@code s.chosen}, {@code s.weight}) of n tokens: {@code in} ({@code [n][dim]},
     * readable by the gate's device) in, the weighted sum of the experts' SwiGLU outputs into {@code out}
     * ({@code [n][dim]}). Each projection is one {@link Kernels#matmulExperts} over all (token, slot)
     * pairs, so each expert's rows stream once for all the tokens routed to it; the weighted outputs are
     * added in slot order, as llama.cpp's build_moe_ffn adds its per-slot views.
     */
    static void runExperts(Kernels gateK, Kernels upK, Kernels downK, Tensor gateExps, Tensor upExps, Tensor downExps,
                           float[] in, float[] out, int n, int dim, int ff, int used, Scratch s) {
        int pairs = n * used;
        gateK.matmulExperts(gateExps, ff, s.chosen, s.token, pairs, in, n, s.ge);
        upK.matmulExperts(upExps, ff, s.chosen, s.token, pairs, in, n, s.ue);
        gateK.swiglu(s.ge, s.ue, pairs * ff);
        downK.matmulExperts(downExps, dim, s.chosen, s.pair, pairs, s.ge, pairs, s.de);
        for (int t = 0; t < n; t++) {
            int o = t * dim;
            for (int j = 0; j < used; j++) {
                int p = t * used + j;
                float wgt = s.weight[p];
                int d = p * dim;
                if (j == 0) {
                    for (int i = 0; i < dim; i++) out[o + i] = wgt * s.de[d + i];
                } else {
                    for (int i = 0; i < dim; i++) out[o + i] += wgt * s.de[d + i];
                }
            }
        }
    }

    /** Softmax over the router logits, pick the {@code used} largest, renormalise their weights. */
    static void route(float[] logits, int off, int nExp, int used, int[] chosen, float[] weight, int outOff) {
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < nExp; e++) max = Math.max(max, logits[off + e]);
        double sum = 0;
        float[] p = new float[nExp];
        for (int e = 0; e < nExp; e++) {
            p[e] = (float) Math.exp(logits[off + e] - max);
            sum += p[e];
        }
        float inv = (float) (1.0 / sum);
        for (int e = 0; e < nExp; e++) p[e] *= inv;
        float total = 0;
        boolean[] taken = new boolean[nExp];
        for (int j = 0; j < used; j++) {
            int best = -1;
            for (int e = 0; e < nExp; e++) if (!taken[e] && (best < 0 || p[e] > p[best])) best = e;
            taken[best] = true;
            chosen[outOff + j] = best;
            weight[outOff + j] = p[best];
            total += p[best];
        }
        for (int j = 0; j < used; j++) weight[outOff + j] /= total;
    }
}
