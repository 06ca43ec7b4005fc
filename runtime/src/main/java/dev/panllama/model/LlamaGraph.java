package dev.panllama.model;

import dev.panllama.graph.ExpertRouting;
import dev.panllama.graph.Graph;
import dev.panllama.graph.Slot;
import dev.panllama.graph.Value;

import static dev.panllama.model.GraphBlocks.norm;
import static dev.panllama.model.TensorNames.weight;

/**
 * The graph of the llama family (llama, qwen2, qwen3 and their mixture-of-experts forms), as
 * llama.cpp's build_llama / build_qwen3 build it: embed, then per block RMS norm → attention →
 * residual, RMS norm → SwiGLU feed-forward or routed experts → residual; last the output head.
 */
final class LlamaGraph implements ForwardPass.Builder {
    /** Mixtral and qwen3moe route by softmax, keep the top k and renormalise their weights (norm_w). */
    static final ExpertRouting ROUTING = new ExpertRouting(ExpertRouting.Gating.SOFTMAX, true, 1f, 0, 0);

    private final ModelConfig config;
    private final LlamaWeights weights;
    private final GraphBlocks.RopeInput rope;

    LlamaGraph(ModelConfig config, LlamaWeights weights) {
        this.config = config;
        this.weights = weights;
        this.rope = new GraphBlocks.RopeInput(config.ropeScaling().angles(config.nRot(), config.ropeFreqBase(), weights.ropeFreqs()));
    }

    @Override
    public Graph build(Batch b) {
        Graph g = new Graph();
        int n = b.n(), dim = config.embeddingLength();
        float eps = config.rmsEps();
        Value x = GraphBlocks.embed(g, weights.tokenEmbedding(), b);
        Value ropeAngles = rope.add(g, b);
        for (int l = 0; l < config.blockCount(); l++) {
            LlamaWeights.Layer layer = weights.layer(l);
            String p = "blk." + l + ".";
            Value cur = norm(g, x, weight(l, "attn_norm"), layer.attnNorm(), n, dim, eps, Slot.NORMED);
            cur = GraphBlocks.attention(g, cur, ropeAngles, config, layer, l, b);
            x = g.add(cur, x, p + "ffn_inp", Slot.RESIDUAL);
            cur = norm(g, x, weight(l, "ffn_norm"), layer.ffnNorm(), n, dim, eps, Slot.NORMED);
            cur = layer.isMoe()
                    ? GraphBlocks.moeFfn(g, cur, new GraphBlocks.Experts(layer.expertRouter(), ROUTING, null, layer.expertGate(),
                            layer.expertUp(), layer.expertDown(), config.expertCount(), config.expertUsedCount(), config.expertFeedForwardLength()), n, dim, p)
                    : GraphBlocks.ffn(g, cur, layer.ffnGate(), layer.ffnUp(), layer.ffnDown(), n, p + "ffn_", Slot.BLOCK_OUT);
            x = g.add(cur, x, p + "l_out", Slot.RESIDUAL);
        }
        GraphBlocks.outputHead(g, x, weights.outputNorm(), weights.output(), config, b);
        return g;
    }
}
