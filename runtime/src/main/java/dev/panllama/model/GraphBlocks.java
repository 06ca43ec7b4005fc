package dev.panllama.model;

import dev.panllama.graph.ExpertRouting;
import dev.panllama.graph.Graph;
import dev.panllama.graph.KvSpan;
import dev.panllama.graph.Op;
import dev.panllama.graph.Slot;
import dev.panllama.graph.Value;
import dev.panllama.tensor.Tensor;

import static dev.panllama.model.TensorNames.weight;

/**
 * The blocks every architecture's graph is made of, as llama.cpp's llm_graph_context has them
 * (build_norm, build_attn, build_ffn, build_moe_ffn) plus the graph's input and output head. Each adds
 * its nodes to a {@link Graph} and returns the value it computes; the caller chains them.
 */
final class GraphBlocks {
    private GraphBlocks() {}

    /** The batch's token embeddings, into the residual stream (slot RESIDUAL). */
    static Value embed(Graph g, Tensor table, Batch b) {
        return g.embed(table, b.tokens(), b.off(), b.n(), Math.toIntExact(table.rowLength()));
    }

    /** RoPE's cos/sin table for a batch's positions, an input of the graph (llama.cpp's inp_pos); the array is reused. */
    static final class RopeInput {
        private final RopeAngles rope;
        private float[] table = new float[0];

        RopeInput(RopeAngles rope) {
            this.rope = rope;
        }

        Value add(Graph g, Batch b) {
            int n = b.n() * rope.nRot();
            if (table.length < n) table = new float[n];
            for (KvSpan s : b.spans()) rope.fill(s.pos0(), s.tokens(), table, s.row0() * rope.nRot());
            return g.input("rope_angles", Slot.ROPE_ANGLES, table, n);
        }
    }

    /** {@code rms_norm(x) * weight} of {@code rows} vectors of {@code dim}. */
    static Value norm(Graph g, Value x, String weightName, float[] weight, int rows, int dim, float eps, Slot slot) {
        return g.rmsNorm(x, weightName, weight, rows, dim, eps, weightName.replace(".weight", ""), slot);
    }

    /** A SwiGLU feed-forward: {@code down · (silu(gate · x) ⊙ (up · x))}. */
    static Value ffn(Graph g, Value x, Tensor gate, Tensor up, Tensor down, int n, String prefix, Slot out) {
        Value h = g.matmul(gate, x, n, prefix + "gate", Slot.FFN_GATE);
        Value u = g.matmul(up, x, n, prefix + "up", Slot.FFN_UP);
        h = g.swiglu(h, u, prefix + "swiglu");
        return g.matmul(down, h, n, prefix + "out", out);
    }

    /** The router and the tensors of one layer's routed experts. */
    record Experts(Tensor router, ExpertRouting routing, float[] selectionBias, Tensor gate, Tensor up, Tensor down,
                   int count, int used, int ff) {}

    /**
     * Routed experts (build_moe_ffn): router logits → top-k ids and weights → each chosen expert's SwiGLU
     * over the tokens routed to it (mul_mat_id, one per projection) → the weighted sum, into BLOCK_OUT.
     */
    static Value moeFfn(Graph g, Value x, Experts e, int n, int dim, String prefix) {
        Value logits = g.matmul(e.router(), x, n, prefix + "ffn_moe_logits", Slot.ROUTER);
        Value[] route = g.route(logits, e.routing(), e.selectionBias(), n, e.count(), e.used(), prefix);
        Value ids = route[0];
        Value h = g.matmulExperts(e.gate(), e.ff(), x, ids, n, e.used(), false, prefix + "ffn_moe_gate", Slot.EXPERT_GATE);
        Value u = g.matmulExperts(e.up(), e.ff(), x, ids, n, e.used(), false, prefix + "ffn_moe_up", Slot.EXPERT_UP);
        h = g.swiglu(h, u, prefix + "ffn_moe_swiglu");
        Value y = g.matmulExperts(e.down(), dim, h, ids, n, e.used(), true, prefix + "ffn_moe_down", Slot.EXPERT_DOWN);
        return g.moeCombine(y, route[1], n, e.used(), dim, prefix + "ffn_moe_out", Slot.BLOCK_OUT);
    }

    /**
     * Grouped-query self-attention (build_attn with a KV cache) from the normed input: q/k/v projections
     * (+ biases, + per-head q/k norms where the architecture has them), RoPE, the cache store, attention
     * and the output projection, into BLOCK_OUT. The cache and attention run with attn_k, where llama.cpp
     * keeps a layer's cache.
     */
    static Value attention(Graph g, Value x, Value angles, ModelConfig c, LlamaWeights.Layer w, int l, Batch b) {
        int n = b.n();
        String p = "blk." + l + ".";
        Value q = g.matmul(w.wq(), x, n, p + "Qcur", Slot.Q);
        Value k = g.matmul(w.wk(), x, n, p + "Kcur", Slot.K);
        Value v = g.matmul(w.wv(), x, n, p + "Vcur", Slot.V);
        if (w.bq() != null) {
            q = g.addBias(q, TensorNames.bias(l, "attn_q"), w.bq(), n);
            k = g.addBias(k, TensorNames.bias(l, "attn_k"), w.bk(), n);
            v = g.addBias(v, TensorNames.bias(l, "attn_v"), w.bv(), n);
        }
        if (w.qNorm() != null) {
            q = norm(g, q, weight(l, "attn_q_norm"), w.qNorm(), n * c.headCount(), c.headDimK(), c.rmsEps(), Slot.Q);
            k = norm(g, k, weight(l, "attn_k_norm"), w.kNorm(), n * c.headCountKv(), c.headDimK(), c.rmsEps(), Slot.K);
        }
        boolean neox = c.arch().neoxRope();
        q = g.rope(q, angles, n, c.headCount(), c.headDimK(), c.nRot(), neox);
        k = g.rope(k, angles, n, c.headCountKv(), c.headDimK(), c.nRot(), neox);
        String cacheDevice = w.wk().name();
        g.kvStore(b.spans(), l, cacheDevice, k, v);
        Value att = g.attention(new Op.Attention(b.spans(), l, c.headCount(), c.headCountKv(), c.headDimK(),
                c.headDimV(), (float) (1.0 / Math.sqrt(c.headDimK())), cacheDevice), q, p + "kqv_out", Slot.ATTN_OUT);
        return g.matmul(w.wo(), att, n, p + "attn_out", Slot.BLOCK_OUT);
    }

    /**
     * Final norm and output projection of the rows whose logits are wanted, read out to the batch's array
     * (only the norm, for a batch that wants hidden states).
     */
    static void outputHead(Graph g, Value x, float[] outputNorm, Tensor output, ModelConfig c, Batch b) {
        int rows = b.logitRowCount();
        if (rows <= 0) return;
        int dim = c.embeddingLength();
        Value tail = b.logitsOfAllRows() ? x : g.takeRows(x, b.logitRows(), dim, "result_rows", Slot.TAIL);
        Value normed = g.rmsNorm(tail, TensorNames.OUTPUT_NORM, outputNorm, rows, dim, c.rmsEps(), "result_norm", Slot.NORMED);
        if (b.hidden()) {
            g.output(normed, b.logits());
            return;
        }
        Value logits = g.matmul(output, TensorNames.OUTPUT, normed, rows, "result_output", Slot.LOGITS);
        g.output(logits, b.logits());
    }
}
