package dev.panllama.model;

import dev.panllama.backend.AttentionKernel;
import dev.panllama.backend.Kernels;
import dev.panllama.scheduler.ExecutionPlan;
import dev.panllama.scheduler.SplitBuffers;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;


/**
 * DeepSeek-V2/V3's forward pass (llama.cpp's build_deepseek2) with multi-head latent attention over a
 * latent cache. Per block:
 * <ol>
 *   <li>RMS norm; the query through the q LoRA (attn_q_a → RMS norm → attn_q_b) or attn_q, giving each
 *   head a {@code nope} part and a {@code rope} part; attn_kv_a_mqa gives the kv latent (RMS-normed by
 *   attn_kv_a_norm) and one rope part shared by all heads. Both rope parts are rotated (normal mode,
 *   YaRN when the file asks).</li>
 *   <li>The cache row of a position is {@code [latent | rotated key rope]}, {@code kvLora + rope} values
 *   for all heads together. Instead of decompressing keys, each head's q_nope is absorbed: multiplied by
 *   its attn_k_b rows it becomes a query in latent space, so that {@code q·k = [q_abs | q_rope]·row}.</li>
 *   <li>Attention runs as one KV head shared by every query head ({@link AttentionKernel} over a
 *   {@linkplain KvCache#latent latent cache}, whose values are the rows' latent part); each head's
 *   result, still a latent, goes through its attn_v_b rows to the head's value, then attn_output.</li>
 *   <li>RMS norm; a dense SwiGLU feed-forward for the leading dense layers, else routed experts
 *   ({@link ExpertRouting}) plus the shared experts; residual.</li>
 * </ol>
 * Absorption is exact algebra ({@code q·(Wk c) = (Wkᵀq)·c}, {@code Σ a·(Wv c) = Wv Σ a·c}); only the
 * rounding differs from llama.cpp's decompressing path on legacy files.
 *
 * <p>As in {@link Transformer}, each op runs on the device of its weight ({@link ExecutionPlan#deviceIndex})
 * and activations cross devices through {@link SplitBuffers}; the per-head gathers are host arrays.
 */
public final class Deepseek2Transformer implements ForwardPass {
    private static final int X = ForwardSteps.X, XB = ForwardSteps.XB, XB2 = ForwardSteps.XB2, QA = 3, Q = 4, KV = 5, QL = 6, LAT = 7, ATT = 8, HB = 9, HB2 = 10, SH = 11;
    private static final int SLOTS = 12;

    /** Device indices of one block's ops (each with its weight; the cache and attention go with attn_kv_a_mqa). */
    private record LayerDevices(int attnNorm, int wqA, int qANorm, int wqB, int wkvA, int kvANorm, int kAbsorb, int vUp, int wo,
                                int ffnNorm, int ffnGate, int ffnUp, int ffnDown, int router, int expGate, int expUp, int expDown,
                                int shGate, int shUp, int shDown) {

        static LayerDevices resolve(ExecutionPlan plan, Deepseek2Config dc, int layer) {
            String b = "blk." + layer + ".";
            boolean lora = dc.qLoraRank() > 0;
            int wqB = plan.deviceIndex(b + (lora ? "attn_q_b.weight" : "attn_q.weight"));
            String kb = dc.latentLayout() ? "attn_k_b.weight" : "attn_kv_b.weight";
            String vb = dc.latentLayout() ? "attn_v_b.weight" : "attn_kv_b.weight";
            return new LayerDevices(plan.deviceIndex(b + "attn_norm.weight"),
                    lora ? plan.deviceIndex(b + "attn_q_a.weight") : wqB, lora ? plan.deviceIndex(b + "attn_q_a_norm.weight") : wqB, wqB,
                    plan.deviceIndex(b + "attn_kv_a_mqa.weight"), plan.deviceIndex(b + "attn_kv_a_norm.weight"),
                    plan.deviceIndex(b + kb), plan.deviceIndex(b + vb), plan.deviceIndex(b + "attn_output.weight"),
                    plan.deviceIndex(b + "ffn_norm.weight"), plan.deviceIndex(b + "ffn_gate.weight"),
                    plan.deviceIndex(b + "ffn_up.weight"), plan.deviceIndex(b + "ffn_down.weight"),
                    plan.deviceIndex(b + "ffn_gate_inp.weight"), plan.deviceIndex(b + "ffn_gate_exps.weight"),
                    plan.deviceIndex(b + "ffn_up_exps.weight"), plan.deviceIndex(b + "ffn_down_exps.weight"),
                    plan.deviceIndex(b + "ffn_gate_shexp.weight"), plan.deviceIndex(b + "ffn_up_shexp.weight"),
                    plan.deviceIndex(b + "ffn_down_shexp.weight"));
        }
    }

    private final Deepseek2Config dc;
    private final ModelConfig c;
    private final Deepseek2Weights w;
    private final ExecutionPlan plan;
    private final LayerDevices[] devices;
    private final RopeAngles rope;
    private State state;

    public Deepseek2Transformer(Deepseek2Config config, Deepseek2Weights weights, ExecutionPlan plan) {
        this.dc = config;
        this.c = config.base();
        this.w = weights;
        this.plan = plan;
        this.devices = new LayerDevices[c.blockCount()];
        for (int l = 0; l < devices.length; l++) devices[l] = LayerDevices.resolve(plan, config, l);
        this.rope = config.ropeAngles();
    }

    /** The latent cache this pass reads: {@code kvLora + rope} values per position and layer, in {@code type}. */
    public static KvCache newCache(Deepseek2Config dc, int contextLength, GgmlType type) {
        return KvCache.latent(dc.base().blockCount(), contextLength, dc.latentDim(), dc.kvLoraRank(), type);
    }

    @Override
    public ModelConfig config() { return c; }

    public Deepseek2Config deepseek2Config() { return dc; }

    @Override
    public int boundaryCopies() { return state == null ? 0 : state.buf.copies(); }

    @Override
    public void forward(int[] tokens, int off, int n, int pos0, KvCache cache, int logitsFrom, float[] logits) {
        if (!cache.isLatent() || cache.keyRowElements() != dc.latentDim()) {
            throw new IllegalArgumentException("deepseek2 needs a latent cache of " + dc.latentDim() + " values per row");
        }
        State s = state(n);
        SplitBuffers b = s.buf;
        b.reset();
        ForwardSteps.embed(w.tokenEmbedding(), tokens, off, n, c.embeddingLength(), b);
        rope.fill(pos0, n, s.ropeCs);
        for (int l = 0; l < c.blockCount(); l++) {
            attentionBlock(l, s, n, pos0, cache);
            feedForwardBlock(l, s, n);
        }
        ForwardSteps.outputHead(plan, b, c, w.outputNorm(), w.output(), n, logitsFrom, logits);
    }

    private void attentionBlock(int l, State s, int n, int pos0, KvCache cache) {
        Deepseek2Weights.Layer layer = w.layer(l);
        LayerDevices d = devices[l];
        SplitBuffers b = s.buf;
        int dim = c.embeddingLength();
        int heads = c.headCount();
        int nope = dc.nopeDim(), ropeDim = dc.ropeDim(), kvLora = dc.kvLoraRank(), latent = dc.latentDim(), qk = dc.qkHeadDim();
        k(d.attnNorm()).rmsnorm(b.in(d.attnNorm(), X), layer.attnNorm(), b.out(d.attnNorm(), XB, n * dim), n, dim, c.rmsEps());
        if (layer.wqA() != null) {
            int r = dc.qLoraRank();
            k(d.wqA()).matmul(layer.wqA(), b.in(d.wqA(), XB), b.out(d.wqA(), QA, n * r), n);
            float[] qa = b.inout(d.qANorm(), QA);
            k(d.qANorm()).rmsnorm(qa, layer.qANorm(), qa, n, r, c.rmsEps());
            k(d.wqB()).matmul(layer.wqB(), b.in(d.wqB(), QA), b.out(d.wqB(), Q, n * heads * qk), n);
        } else {
            k(d.wqB()).matmul(layer.wq(), b.in(d.wqB(), XB), b.out(d.wqB(), Q, n * heads * qk), n);
        }
        k(d.wkvA()).matmul(layer.wkvA(), b.in(d.wkvA(), XB), b.out(d.wkvA(), KV, n * latent), n);

        // The latent rows: normed latent, then the shared key rope part, rotated.
        float[] kv = b.inout(d.kvANorm(), KV);
        gather(kv, latent, 0, kvLora, s.lat, n);
        k(d.kvANorm()).rmsnorm(s.lat, layer.kvANorm(), s.lat, n, kvLora, c.rmsEps());
        scatter(s.lat, kv, latent, 0, kvLora, n);
        kv = b.inout(d.wkvA(), KV);
        gather(kv, latent, kvLora, ropeDim, s.pe, n);
        k(d.wkvA()).rope(s.pe, n, 1, ropeDim, ropeDim, s.ropeCs, false);
        scatter(s.pe, kv, latent, kvLora, ropeDim, n);
        cache.store(l, pos0, n, kv, null);

        // Queries in latent space: [q_nope through its head's attn_k_b rows | rotated q_rope].
        float[] q = b.in(d.wqB(), Q);
        float[] ql = b.out(d.kAbsorb(), QL, n * heads * latent);
        gather(q, qk, nope, ropeDim, s.pe, n * heads);
        k(d.wqB()).rope(s.pe, n, heads, ropeDim, ropeDim, s.ropeCs, false);
        scatter(s.pe, ql, latent, kvLora, ropeDim, n * heads);
        Deepseek2Weights.HeadRows kb = layer.kAbsorb();
        gather(q, qk, 0, nope, s.qNope, n * heads);
        k(d.kAbsorb()).matmulHeads(kb.tensor(), kb.offset(), kb.stride(), kb.rows(), heads, s.qNope, s.qAbsorbed, n);
        scatter(s.qAbsorbed, ql, latent, 0, kvLora, n * heads);

        int att = d.wkvA();
        k(att).attention(new AttentionKernel.Job(b.in(att, QL), b.out(att, LAT, n * heads * kvLora), cache, l, pos0, n,
                heads, 1, latent, kvLora, dc.kqScale()));

        // Each head's latent result through its value rows.
        Deepseek2Weights.HeadRows vb = layer.vUp();
        k(d.vUp()).matmulHeads(vb.tensor(), vb.offset(), vb.stride(), vb.rows(), heads, b.in(d.vUp(), LAT),
                b.out(d.vUp(), ATT, n * heads * dc.vDim()), n);
        k(d.wo()).matmul(layer.wo(), b.in(d.wo(), ATT), b.out(d.wo(), XB2, n * dim), n);
        k(d.wo()).add(b.inout(d.wo(), X), b.in(d.wo(), XB2), n * dim);
    }

    private void feedForwardBlock(int l, State s, int n) {
        Deepseek2Weights.Layer layer = w.layer(l);
        LayerDevices d = devices[l];
        SplitBuffers b = s.buf;
        int dim = c.embeddingLength();
        k(d.ffnNorm()).rmsnorm(b.in(d.ffnNorm(), X), layer.ffnNorm(), b.out(d.ffnNorm(), XB, n * dim), n, dim, c.rmsEps());
        int last;
        if (!layer.isMoe()) {
            swiglu(layer.ffnGate(), layer.ffnUp(), layer.ffnDown(), d.ffnGate(), d.ffnUp(), d.ffnDown(), c.feedForwardLength(), XB2, s, n);
            last = d.ffnDown();
        } else {
            int nExp = c.expertCount(), used = c.expertUsedCount();
            MoeFeedForward.Scratch m = s.moe;
            k(d.router()).matmul(layer.router(), b.in(d.router(), XB), m.router, n);
            for (int t = 0; t < n; t++) {
                dc.routing().route(m.router, t * nExp, nExp, layer.probsBias(), used, m.chosen, m.weight, t * used, s.routing);
            }
            MoeFeedForward.runExperts(k(d.expGate()), k(d.expUp()), k(d.expDown()), layer.expGate(), layer.expUp(), layer.expDown(),
                    b.in(d.expGate(), XB), b.out(d.expDown(), XB2, n * dim), n, dim, c.expertFeedForwardLength(), used, m);
            last = d.expDown();
            if (layer.hasSharedExperts()) {
                int ff = c.expertFeedForwardLength() * dc.sharedExperts();
                swiglu(layer.shexpGate(), layer.shexpUp(), layer.shexpDown(), d.shGate(), d.shUp(), d.shDown(), ff, SH, s, n);
                k(d.shDown()).add(b.inout(d.shDown(), XB2), b.in(d.shDown(), SH), n * dim);
                last = d.shDown();
            }
        }
        k(last).add(b.inout(last, X), b.in(last, XB2), n * dim);
    }

    /** {@code out = down · (silu(gate · XB) ⊙ (up · XB))}, each matmul on its weight's device. */
    private void swiglu(Tensor gate, Tensor up, Tensor down, int dGate, int dUp, int dDown, int ff, int out, State s, int n) {
        SplitBuffers b = s.buf;
        k(dGate).matmul(gate, b.in(dGate, XB), b.out(dGate, HB, n * ff), n);
        k(dUp).matmul(up, b.in(dUp, XB), b.out(dUp, HB2, n * ff), n);
        k(dGate).swiglu(b.inout(dGate, HB), b.in(dGate, HB2), n * ff);
        k(dDown).matmul(down, b.in(dDown, HB), b.out(dDown, out, n * c.embeddingLength()), n);
    }

    /** Copies {@code len} values at {@code off} of each of {@code rows} rows of {@code stride} into a packed array. */
    private static void gather(float[] src, int stride, int off, int len, float[] dst, int rows) {
        for (int r = 0; r < rows; r++) System.arraycopy(src, r * stride + off, dst, r * len, len);
    }

    /** The inverse of {@link #gather}. */
    private static void scatter(float[] src, float[] dst, int stride, int off, int len, int rows) {
        for (int r = 0; r < rows; r++) System.arraycopy(src, r * len, dst, r * stride + off, len);
    }

    private Kernels k(int device) {
        return plan.kernels(device);
    }

    private State state(int n) {
        if (state == null || state.tokens < n) state = new State(dc, plan.deviceCount(), Math.max(n, state == null ? 0 : state.tokens));
        return state;
    }

    /** A micro-batch's activations (per device), the per-head gathers, RoPE angles and MoE scratch. */
    private static final class State {
        final int tokens;
        final SplitBuffers buf;
        final float[] ropeCs;
        final float[] lat;        // [n][kvLora]: the latent part of the cache rows, being normed
        final float[] pe;         // [n][heads][rope]: rope parts being rotated
        final float[] qNope;      // [n][heads][nope]: the queries' nope parts
        final float[] qAbsorbed;  // [n][heads][kvLora]: the same through attn_k_b
        final MoeFeedForward.Scratch moe;
        final ExpertRouting.Scratch routing;

        State(Deepseek2Config dc, int devices, int n) {
            ModelConfig c = dc.base();
            tokens = n;
            int dim = c.embeddingLength();
            int heads = c.headCount();
            int ff = Math.max(c.feedForwardLength(), c.expertFeedForwardLength() * dc.sharedExperts());
            int[] sizes = new int[SLOTS];
            sizes[X] = n * dim;
            sizes[XB] = n * dim;
            sizes[XB2] = n * dim;
            sizes[QA] = n * dc.qLoraRank();
            sizes[Q] = n * heads * dc.qkHeadDim();
            sizes[KV] = n * dc.latentDim();
            sizes[QL] = n * heads * dc.latentDim();
            sizes[LAT] = n * heads * dc.kvLoraRank();
            sizes[ATT] = n * heads * dc.vDim();
            sizes[HB] = n * ff;
            sizes[HB2] = n * ff;
            sizes[SH] = n * dim;
            buf = new SplitBuffers(devices, SLOTS, slot -> new float[sizes[slot]]);
            ropeCs = new float[n * dc.ropeDim()];
            lat = new float[n * dc.kvLoraRank()];
            pe = new float[n * heads * dc.ropeDim()];
            qNope = new float[n * heads * dc.nopeDim()];
            qAbsorbed = new float[n * heads * dc.kvLoraRank()];
            moe = c.isMoe() ? new MoeFeedForward.Scratch(c, n) : null;
            routing = c.isMoe() ? new ExpertRouting.Scratch(c.expertCount(), dc.routing().groups()) : null;
        }
    }
}
