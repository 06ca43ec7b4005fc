package dev.panllama.model;

import dev.panllama.graph.ExpertRouting;
import dev.panllama.graph.Graph;
import dev.panllama.graph.KvSpan;
import dev.panllama.graph.Op;
import dev.panllama.graph.Slot;
import dev.panllama.graph.Value;

import static dev.panllama.model.GraphBlocks.norm;
import static dev.panllama.model.TensorNames.weight;
import dev.panllama.kv.KvCache;

/**
 * DeepSeek-V2/V3's graph (llama.cpp's build_deepseek2) with multi-head latent attention over a latent
 * cache. Per block:
 * <ol>
 *   <li>RMS norm; the query through the q LoRA (attn_q_a → RMS norm → attn_q_b) or attn_q, giving each
 *   head a {@code nope} part and a {@code rope} part; attn_kv_a_mqa gives the kv latent (RMS-normed by
 *   attn_kv_a_norm) and one rope part shared by all heads. Both rope parts are rotated (normal mode,
 *   YaRN when the file asks).</li>
 *   <li>The cache row of a position is {@code [latent | rotated key rope]}, {@code kvLora + rope} values
 *   for all heads together. Instead of decompressing keys, each head's q_nope is absorbed: multiplied by
 *   its attn_k_b rows it becomes a query in latent space, so that {@code q·k = [q_abs | q_rope]·row}.</li>
 *   <li>Attention runs as one KV head shared by every query head over the {@linkplain KvCache#latent
 *   latent cache}, whose values are the rows' latent part; each head's result, still a latent, goes
 *   through its attn_v_b rows to the head's value, then attn_output.</li>
 *   <li>RMS norm; a dense SwiGLU feed-forward for the leading dense layers, else routed experts
 *   ({@link ExpertRouting}) plus the shared experts; residual.</li>
 * </ol>
 * Absorption is exact algebra ({@code q·(Wk c) = (Wkᵀq)·c}, {@code Σ a·(Wv c) = Wv Σ a·c}); only the
 * rounding differs from llama.cpp's decompressing path on legacy files. The cache and attention run
 * with attn_kv_a_mqa; a legacy file's transposed key rows run where attn_kv_b is.
 */
final class Deepseek2Graph implements ForwardPass.Builder {
    private final Deepseek2Config dc;
    private final ModelConfig base;
    private final Deepseek2Weights w;
    private final GraphBlocks.RopeInput rope;

    Deepseek2Graph(Deepseek2Config config, Deepseek2Weights weights) {
        this.dc = config;
        this.base = config.base();
        this.w = weights;
        this.rope = new GraphBlocks.RopeInput(config.ropeAngles());
    }

    @Override
    public Graph build(Batch b) {
        for (KvSpan s : b.spans()) {
            if (!s.cache().isLatent() || s.cache().keyRowElements() != dc.latentDim()) {
                throw new IllegalArgumentException("deepseek2 needs a latent cache of " + dc.latentDim() + " values per row");
            }
        }
        Graph g = new Graph();
        int n = b.n(), dim = base.embeddingLength();
        Value x = GraphBlocks.embed(g, w.tokenEmbedding(), b);
        Value ropeAngles = rope.add(g, b);
        for (int l = 0; l < base.blockCount(); l++) {
            Deepseek2Weights.Layer layer = w.layer(l);
            String p = "blk." + l + ".";
            Value cur = norm(g, x, weight(l, "attn_norm"), layer.attnNorm(), n, dim, base.rmsEps(), Slot.NORMED);
            cur = attention(g, cur, ropeAngles, layer, l, b);
            x = g.add(cur, x, p + "ffn_inp", Slot.RESIDUAL);
            cur = norm(g, x, weight(l, "ffn_norm"), layer.ffnNorm(), n, dim, base.rmsEps(), Slot.NORMED);
            cur = feedForward(g, cur, layer, n, p);
            x = g.add(cur, x, p + "l_out", Slot.RESIDUAL);
        }
        GraphBlocks.outputHead(g, x, w.outputNorm(), w.output(), base, b);
        return g;
    }

    private Value attention(Graph g, Value x, Value angles, Deepseek2Weights.Layer w, int l, Batch b) {
        int n = b.n(), heads = base.headCount();
        int nope = dc.nopeDim(), ropeDim = dc.ropeDim(), kvLora = dc.kvLoraRank(), qk = dc.qkHeadDim();
        String p = "blk." + l + ".";
        Value q;
        if (w.wqA() != null) {
            Value qa = g.matmul(w.wqA(), x, n, p + "q_a", Slot.QA);
            qa = norm(g, qa, weight(l, "attn_q_a_norm"), w.qANorm(), n, dc.qLoraRank(), base.rmsEps(), Slot.QA);
            q = g.matmul(w.wqB(), qa, n, p + "q", Slot.Q);
        } else {
            q = g.matmul(w.wq(), x, n, p + "q", Slot.Q);
        }
        Value kv = g.matmul(w.wkvA(), x, n, p + "kv_cmpr_pe", Slot.KV);

        // The cache rows: the normed latent, then the shared key rope part, rotated.
        Value latent = g.sliceCols(kv, n, dc.latentDim(), 0, kvLora, p + "kv_cmpr", Slot.LAT_PART);
        latent = norm(g, latent, weight(l, "attn_kv_a_norm"), w.kvANorm(), n, kvLora, base.rmsEps(), Slot.LAT_PART);
        Value kPe = g.sliceCols(kv, n, dc.latentDim(), kvLora, ropeDim, p + "k_pe", Slot.ROPE_PART);
        kPe = g.rope(kPe, angles, n, 1, ropeDim, ropeDim, false);
        Value rows = g.concatCols(latent, kPe, n, p + "kv_cache_row", Slot.KV);
        String cacheDevice = w.wkvA().name();
        g.kvStore(b.spans(), l, cacheDevice, rows, null);

        // Queries in latent space: [q_nope through its head's attn_k_b rows | rotated q_rope].
        Value qPe = g.sliceCols(q, n * heads, qk, nope, ropeDim, p + "q_pe", Slot.ROPE_PART);
        qPe = g.rope(qPe, angles, n, heads, ropeDim, ropeDim, false);
        Value qNope = g.sliceCols(q, n * heads, qk, 0, nope, p + "q_nope", Slot.Q_NOPE);
        Deepseek2Weights.HeadRows kb = w.kAbsorb();
        String kbDevice = dc.latentLayout() ? kb.tensor().name() : w.vUp().tensor().name();
        Value qAbsorbed = g.matmulHeads(kb.tensor(), kbDevice, kb.offset(), kb.stride(), kb.rows(), heads, qNope, n,
                p + "q_nope_absorbed", Slot.Q_ABSORBED);
        Value ql = g.concatCols(qAbsorbed, qPe, n * heads, p + "q_latent", Slot.QL);

        Value lat = g.attention(new Op.Attention(b.spans(), l, heads, 1, dc.latentDim(), kvLora, dc.kqScale(), cacheDevice),
                ql, p + "kqv_latent", Slot.LAT);
        // Each head's latent result through its value rows.
        Deepseek2Weights.HeadRows vb = w.vUp();
        Value att = g.matmulHeads(vb.tensor(), vb.tensor().name(), vb.offset(), vb.stride(), vb.rows(), heads, lat, n, p + "kqv_out", Slot.ATTN_OUT);
        return g.matmul(w.wo(), att, n, p + "attn_out", Slot.BLOCK_OUT);
    }

    private Value feedForward(Graph g, Value x, Deepseek2Weights.Layer w, int n, String p) {
        if (!w.isMoe()) return GraphBlocks.ffn(g, x, w.ffnGate(), w.ffnUp(), w.ffnDown(), n, p + "ffn_", Slot.BLOCK_OUT);
        int dim = base.embeddingLength();
        Value moe = GraphBlocks.moeFfn(g, x, new GraphBlocks.Experts(w.router(), dc.routing(), w.probsBias(), w.expGate(), w.expUp(),
                w.expDown(), base.expertCount(), base.expertUsedCount(), base.expertFeedForwardLength()), n, dim, p);
        if (!w.hasSharedExperts()) return moe;
        Value shared = GraphBlocks.ffn(g, x, w.shexpGate(), w.shexpUp(), w.shexpDown(), n, p + "ffn_shexp_", Slot.SHARED_EXPERTS);
        return g.add(moe, shared, p + "ffn_out", Slot.BLOCK_OUT);
    }
}
