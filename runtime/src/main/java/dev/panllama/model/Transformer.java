package dev.panllama.model;

import dev.panllama.backend.AttentionKernel;
import dev.panllama.backend.Kernels;
import dev.panllama.scheduler.ExecutionPlan;
import dev.panllama.scheduler.SplitBuffers;


/**
 * The forward pass of the llama family (llama, qwen2, qwen3, and their mixture-of-experts forms), one
 * micro-batch of consecutive tokens at a time. It reads top to bottom like the graph llama.cpp builds
 * (src/llama-model.cpp, build_llama / build_qwen3): embed, then per block RMS norm → q/k/v → RoPE →
 * cache → attention → output projection → residual, RMS norm → SwiGLU feed-forward (or routed experts)
 * → residual; finally RMS norm and the output projection for the positions whose logits are wanted.
 *
 * <p>Each op runs on the device holding its weight ({@link ExecutionPlan}); activations are taken with
 * {@code in(device, slot)} and written with {@code out(device, slot)}, which copy a slot across a device
 * boundary when, and only when, the next op runs elsewhere ({@link SplitBuffers}).
 */
public final class Transformer implements ForwardPass {
    static final int X = ForwardSteps.X, XB = ForwardSteps.XB, XB2 = ForwardSteps.XB2, Q = 3, K = 4, V = 5, ATT = 6, HB = 7, HB2 = 8;
    private static final int SLOTS = 9;

    private final ModelConfig c;
    private final ModelWeights w;
    private final ExecutionPlan plan;
    private final RopeAngles rope;
    private State state;

    public Transformer(ModelConfig config, ModelWeights weights, ExecutionPlan plan) {
        this.c = config;
        this.w = weights;
        this.plan = plan;
        this.rope = new RopeAngles(config.nRot(), config.ropeFreqBase(), config.ropeFreqScale(), weights.ropeFreqs());
    }

    @Override
    public ModelConfig config() { return c; }

    /** Boundary copies made by this transformer so far (0 when everything runs on one device). */
    @Override
    public int boundaryCopies() { return state == null ? 0 : state.buf.copies(); }

    /**
     * Evaluates {@code n} tokens {@code tokens[off..off+n)} at positions {@code pos0..pos0+n-1}, storing
     * their keys and values in {@code cache}. Writes the logits of tokens {@code logitsFrom..n-1} of the
     * batch into {@code logits} ({@code [n - logitsFrom][vocab]}); none when logitsFrom == n.
     */
    @Override
    public void forward(int[] tokens, int off, int n, int pos0, KvCache cache, int logitsFrom, float[] logits) {
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
        ModelWeights.Layer layer = w.layer(l);
        ExecutionPlan.LayerDevices d = plan.layer(l);
        SplitBuffers b = s.buf;
        int dim = c.embeddingLength();
        k(d.attnNorm()).rmsnorm(b.in(d.attnNorm(), X), layer.attnNorm(), b.out(d.attnNorm(), XB, n * dim), n, dim, c.rmsEps());
        k(d.wq()).matmul(layer.wq(), b.in(d.wq(), XB), b.out(d.wq(), Q, n * c.qDim()), n);
        k(d.wk()).matmul(layer.wk(), b.in(d.wk(), XB), b.out(d.wk(), K, n * c.kvDimK()), n);
        k(d.wv()).matmul(layer.wv(), b.in(d.wv(), XB), b.out(d.wv(), V, n * c.kvDimV()), n);
        if (layer.bq() != null) {
            addBias(b.inout(d.wq(), Q), layer.bq(), n);
            addBias(b.inout(d.wk(), K), layer.bk(), n);
            addBias(b.inout(d.wv(), V), layer.bv(), n);
        }
        if (layer.qNorm() != null) {
            float[] q = b.inout(d.qNorm(), Q);
            k(d.qNorm()).rmsnorm(q, layer.qNorm(), q, n * c.headCount(), c.headDimK(), c.rmsEps());
            float[] kk = b.inout(d.kNorm(), K);
            k(d.kNorm()).rmsnorm(kk, layer.kNorm(), kk, n * c.headCountKv(), c.headDimK(), c.rmsEps());
        }
        k(d.wq()).rope(b.inout(d.wq(), Q), n, c.headCount(), c.headDimK(), c.nRot(), s.ropeCs, c.arch().neoxRope());
        k(d.wk()).rope(b.inout(d.wk(), K), n, c.headCountKv(), c.headDimK(), c.nRot(), s.ropeCs, c.arch().neoxRope());
        // The layer's KV cache and its attention go with attn_k, as llama.cpp keeps a layer's cache on its device.
        cache.store(l, pos0, n, b.in(d.wk(), K), b.in(d.wk(), V));
        k(d.wk()).attention(new AttentionKernel.Job(b.in(d.wk(), Q), b.out(d.wk(), ATT, n * c.headCount() * c.headDimV()),
                cache, l, pos0, n, c.headCount(), c.headCountKv(), c.headDimK(), c.headDimV(), (float) (1.0 / Math.sqrt(c.headDimK()))));
        k(d.wo()).matmul(layer.wo(), b.in(d.wo(), ATT), b.out(d.wo(), XB2, n * dim), n);
        k(d.wo()).add(b.inout(d.wo(), X), b.in(d.wo(), XB2), n * dim);
    }

    private void feedForwardBlock(int l, State s, int n) {
        ModelWeights.Layer layer = w.layer(l);
        ExecutionPlan.LayerDevices d = plan.layer(l);
        SplitBuffers b = s.buf;
        int dim = c.embeddingLength();
        k(d.ffnNorm()).rmsnorm(b.in(d.ffnNorm(), X), layer.ffnNorm(), b.out(d.ffnNorm(), XB, n * dim), n, dim, c.rmsEps());
        int last;
        if (layer.isMoe()) {
            MoeFeedForward.forward(plan, d, b, c, layer, n, s.moe);
            last = d.expDown();
        } else {
            int ff = c.feedForwardLength();
            k(d.ffnGate()).matmul(layer.ffnGate(), b.in(d.ffnGate(), XB), b.out(d.ffnGate(), HB, n * ff), n);
            k(d.ffnUp()).matmul(layer.ffnUp(), b.in(d.ffnUp(), XB), b.out(d.ffnUp(), HB2, n * ff), n);
            k(d.ffnGate()).swiglu(b.inout(d.ffnGate(), HB), b.in(d.ffnGate(), HB2), n * ff);
            k(d.ffnDown()).matmul(layer.ffnDown(), b.in(d.ffnDown(), HB), b.out(d.ffnDown(), XB2, n * dim), n);
            last = d.ffnDown();
        }
        k(last).add(b.inout(last, X), b.in(last, XB2), n * dim);
    }

    private Kernels k(int device) {
        return plan.kernels(device);
    }

    private static void addBias(float[] x, float[] bias, int tokens) {
        for (int t = 0; t < tokens; t++) {
            int o = t * bias.length;
            for (int i = 0; i < bias.length; i++) x[o + i] += bias[i];
        }
    }

    private State state(int n) {
        if (state == null || state.tokens < n) state = new State(c, plan.deviceCount(), Math.max(n, state == null ? 0 : state.tokens));
        return state;
    }

    /** A micro-batch's activations (per device), RoPE angles and MoE scratch, reused across calls. */
    private static final class State {
        final int tokens;
        final SplitBuffers buf;
        final float[] ropeCs;
        final MoeFeedForward.Scratch moe;

        State(ModelConfig c, int devices, int n) {
            tokens = n;
            int dim = c.embeddingLength();
            int ff = c.isMoe() ? 0 : c.feedForwardLength();
            int[] sizes = new int[SLOTS];
            sizes[X] = n * dim;
            sizes[XB] = n * Math.max(dim, c.headCount() * c.headDimV());
            sizes[XB2] = n * dim;
            sizes[Q] = n * c.qDim();
            sizes[K] = n * c.kvDimK();
            sizes[V] = n * c.kvDimV();
            sizes[ATT] = n * c.headCount() * c.headDimV();
            sizes[HB] = n * ff;
            sizes[HB2] = n * ff;
            buf = new SplitBuffers(devices, SLOTS, slot -> new float[sizes[slot]]);
            ropeCs = new float[n * c.nRot()];
            moe = c.isMoe() ? new MoeFeedForward.Scratch(c, n) : null;
        }
    }
}
