package dev.panllama.model;

import dev.panllama.backend.AttentionKernel;
import dev.panllama.backend.Kernels;
import dev.panllama.tensor.Tensor;

/**
 * The forward pass of the llama family (llama, qwen2, qwen3, and their mixture-of-experts forms), one
 * micro-batch of consecutive tokens at a time. It reads top to bottom like the graph llama.cpp builds
 * (src/llama-model.cpp, build_llama / build_qwen3): embed, then per block RMS norm → q/k/v → RoPE →
 * cache → attention → output projection → residual, RMS norm → SwiGLU feed-forward (or routed experts)
 * → residual; finally RMS norm and the output projection for the positions whose logits are wanted.
 */
public final class Transformer {
    private final ModelConfig c;
    private final ModelWeights w;
    private final Kernels k;
    private final RopeAngles rope;
    private Buffers buf;

    public Transformer(ModelConfig config, ModelWeights weights, Kernels kernels) {
        this.c = config;
        this.w = weights;
        this.k = kernels;
        this.rope = new RopeAngles(config.nRot(), config.ropeFreqBase(), config.ropeFreqScale(), weights.ropeFreqs());
    }

    public ModelConfig config() { return c; }

    public Kernels kernels() { return k; }

    /**
     * Evaluates {@code n} tokens {@code tokens[off..off+n)} at positions {@code pos0..pos0+n-1}, storing
     * their keys and values in {@code cache}. Writes the logits of tokens {@code logitsFrom..n-1} of the
     * batch into {@code logits} ({@code [n - logitsFrom][vocab]}); none when logitsFrom == n.
     */
    public void forward(int[] tokens, int off, int n, int pos0, KvCache cache, int logitsFrom, float[] logits) {
        Buffers b = buffers(n);
        int dim = c.embeddingLength();
        Tensor emb = w.tokenEmbedding();
        for (int t = 0; t < n; t++) {
            int id = tokens[off + t];
            if (id < 0 || id >= emb.rows()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + emb.rows());
            }
            emb.dequantizeRow(id, b.x, t * dim);
        }
        rope.fill(pos0, n, b.ropeCs);
        for (int l = 0; l < c.blockCount(); l++) {
            attentionBlock(l, b, n, pos0, cache);
            ModelWeights.Layer layer = w.layer(l);
            k.rmsnorm(b.x, layer.ffnNorm(), b.xb, n, dim, c.rmsEps());
            if (layer.isMoe()) {
                MoeFeedForward.forward(k, c, layer, b.xb, b.xb2, n, b.moe);
            } else {
                k.matmul(layer.ffnGate(), b.xb, b.hb, n);
                k.matmul(layer.ffnUp(), b.xb, b.hb2, n);
                k.swiglu(b.hb, b.hb2, n * c.feedForwardLength());
                k.matmul(layer.ffnDown(), b.hb, b.xb2, n);
            }
            k.add(b.x, b.xb2, n * dim);
        }
        int rows = n - logitsFrom;
        if (rows <= 0) return;
        float[] tail = b.x;
        if (logitsFrom > 0) {
            System.arraycopy(b.x, logitsFrom * dim, b.xb2, 0, rows * dim);
            tail = b.xb2;
        }
        k.rmsnorm(tail, w.outputNorm(), b.xb, rows, dim, c.rmsEps());
        k.matmul(w.output(), b.xb, logits, rows);
    }

    private void attentionBlock(int l, Buffers b, int n, int pos0, KvCache cache) {
        ModelWeights.Layer layer = w.layer(l);
        int dim = c.embeddingLength();
        k.rmsnorm(b.x, layer.attnNorm(), b.xb, n, dim, c.rmsEps());
        k.matmul(layer.wq(), b.xb, b.q, n);
        k.matmul(layer.wk(), b.xb, b.k, n);
        k.matmul(layer.wv(), b.xb, b.v, n);
        if (layer.bq() != null) {
            addBias(b.q, layer.bq(), n);
            addBias(b.k, layer.bk(), n);
            addBias(b.v, layer.bv(), n);
        }
        if (layer.qNorm() != null) {
            k.rmsnorm(b.q, layer.qNorm(), b.q, n * c.headCount(), c.headDimK(), c.rmsEps());
            k.rmsnorm(b.k, layer.kNorm(), b.k, n * c.headCountKv(), c.headDimK(), c.rmsEps());
        }
        k.rope(b.q, n, c.headCount(), c.headDimK(), c.nRot(), b.ropeCs, c.arch().neoxRope());
        k.rope(b.k, n, c.headCountKv(), c.headDimK(), c.nRot(), b.ropeCs, c.arch().neoxRope());
        cache.store(l, pos0, n, b.k, b.v);
        k.attention(new AttentionKernel.Job(b.q, b.att, cache, l, pos0, n, c.headCount(), c.headCountKv(),
                c.headDimK(), c.headDimV(), (float) (1.0 / Math.sqrt(c.headDimK()))));
        k.matmul(layer.wo(), b.att, b.xb2, n);
        k.add(b.x, b.xb2, n * dim);
    }

    private static void addBias(float[] x, float[] bias, int tokens) {
        for (int t = 0; t < tokens; t++) {
            int o = t * bias.length;
            for (int i = 0; i < bias.length; i++) x[o + i] += bias[i];
        }
    }

    private Buffers buffers(int n) {
        if (buf == null || buf.tokens < n) buf = new Buffers(c, Math.max(n, buf == null ? 0 : buf.tokens));
        return buf;
    }

    /** Activations for a micro-batch, reused across calls. */
    private static final class Buffers {
        final int tokens;
        final float[] x, xb, xb2, q, k, v, att, hb, hb2, ropeCs;
        final MoeFeedForward.Scratch moe;

        Buffers(ModelConfig c, int n) {
            tokens = n;
            int dim = c.embeddingLength();
            x = new float[n * dim];
            xb = new float[n * Math.max(dim, c.headCount() * c.headDimV())];
            xb2 = new float[n * dim];
            q = new float[n * c.qDim()];
            k = new float[n * c.kvDimK()];
            v = new float[n * c.kvDimV()];
            att = new float[n * c.headCount() * c.headDimV()];
            int ff = c.isMoe() ? 0 : c.feedForwardLength();
            hb = new float[n * ff];
            hb2 = new float[n * ff];
            ropeCs = new float[n * c.nRot()];
            moe = c.isMoe() ? new MoeFeedForward.Scratch(c, n) : null;
        }
    }
}
