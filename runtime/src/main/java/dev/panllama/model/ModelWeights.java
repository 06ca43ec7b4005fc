package dev.panllama.model;

import dev.panllama.backend.Device;
import dev.panllama.gguf.TensorSource;
import dev.panllama.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The tensors of a llama-family model by role, with llama.cpp's tensor names. Matrices stay zero-copy
 * {@link Tensor}s over the mapped file; the small vectors (norms, biases) are decoded to float once.
 */
public final class ModelWeights {

    /** One transformer block. Biases, q/k norms and expert tensors are null where the architecture has none. */
    public record Layer(float[] attnNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo,
                        float[] bq, float[] bk, float[] bv, float[] qNorm, float[] kNorm,
                        float[] ffnNorm, Tensor ffnGate, Tensor ffnUp, Tensor ffnDown,
                        Tensor expertRouter, Tensor expertGate, Tensor expertUp, Tensor expertDown) {
        public boolean isMoe() { return expertRouter != null; }
    }

    private final Tensor tokenEmbedding;
    private final Tensor output;
    private final float[] outputNorm;
    private final float[] ropeFreqs;
    private final List<Layer> layers;

    private ModelWeights(Tensor tokenEmbedding, Tensor output, float[] outputNorm, float[] ropeFreqs, List<Layer> layers) {
        this.tokenEmbedding = tokenEmbedding;
        this.output = output;
        this.outputNorm = outputNorm;
        this.ropeFreqs = ropeFreqs;
        this.layers = List.copyOf(layers);
    }

    /** Loads every weight through {@code s}, which checks its shape (and notes it as used). */
    static ModelWeights load(WeightShapes s, ModelConfig c) {
        TensorSource gguf = s.source();
        Tensor emb = s.matrix("token_embd.weight", c.embeddingLength(), c.vocabSize());
        // Without output.weight the output projection is tied to the embeddings (llama.cpp does the same).
        Tensor out = gguf.hasTensor("output.weight") ? s.matrix("output.weight", c.embeddingLength(), c.vocabSize()) : emb;
        float[] outNorm = s.vector("output_norm.weight", c.embeddingLength());
        float[] ropeFreqs = gguf.hasTensor("rope_freqs.weight") ? s.vector("rope_freqs.weight", c.nRot() / 2) : null;
        Architecture a = c.arch();
        List<Layer> layers = new ArrayList<>(c.blockCount());
        for (int i = 0; i < c.blockCount(); i++) {
            String b = "blk." + i + ".";
            // As in llama.cpp (build_llama, qwen3moe): with experts every block routes, without none does.
            boolean moe = c.isMoe();
            layers.add(new Layer(
                    s.vector(b + "attn_norm.weight", c.embeddingLength()),
                    s.matrix(b + "attn_q.weight", c.embeddingLength(), c.qDim()),
                    s.matrix(b + "attn_k.weight", c.embeddingLength(), c.kvDimK()),
                    s.matrix(b + "attn_v.weight", c.embeddingLength(), c.kvDimV()),
                    s.matrix(b + "attn_output.weight", c.headCount() * c.headDimV(), c.embeddingLength()),
                    a.qkvBias() ? s.vector(b + "attn_q.bias", c.qDim()) : null,
                    a.qkvBias() ? s.vector(b + "attn_k.bias", c.kvDimK()) : null,
                    a.qkvBias() ? s.vector(b + "attn_v.bias", c.kvDimV()) : null,
                    a.qkNorm() ? s.vector(b + "attn_q_norm.weight", c.headDimK()) : null,
                    a.qkNorm() ? s.vector(b + "attn_k_norm.weight", c.headDimK()) : null,
                    s.vector(b + "ffn_norm.weight", c.embeddingLength()),
                    moe ? null : s.matrix(b + "ffn_gate.weight", c.embeddingLength(), c.feedForwardLength()),
                    moe ? null : s.matrix(b + "ffn_up.weight", c.embeddingLength(), c.feedForwardLength()),
                    moe ? null : s.matrix(b + "ffn_down.weight", c.feedForwardLength(), c.embeddingLength()),
                    moe ? s.matrix(b + "ffn_gate_inp.weight", c.embeddingLength(), c.expertCount()) : null,
                    moe ? s.tensor3(b + "ffn_gate_exps.weight", c.embeddingLength(), c.expertFeedForwardLength(), c.expertCount()) : null,
                    moe ? s.tensor3(b + "ffn_up_exps.weight", c.embeddingLength(), c.expertFeedForwardLength(), c.expertCount()) : null,
                    moe ? s.tensor3(b + "ffn_down_exps.weight", c.expertFeedForwardLength(), c.embeddingLength(), c.expertCount()) : null));
        }
        return new ModelWeights(emb, out, outNorm, ropeFreqs, layers);
    }

    /**
     * These weights as the devices holding them use them: {@link Device#place} of each matrix (host devices
     * return the mapped tensor itself; others upload it). Norms and biases are floats on the host.
     */
    public ModelWeights placed(Function<String, Device> deviceOf) {
        UnaryOperator<Tensor> p = t -> t == null ? null : deviceOf.apply(t.name()).place(t);
        List<Layer> out = new ArrayList<>(layers.size());
        for (Layer l : layers) {
            out.add(new Layer(l.attnNorm(), p.apply(l.wq()), p.apply(l.wk()), p.apply(l.wv()), p.apply(l.wo()),
                    l.bq(), l.bk(), l.bv(), l.qNorm(), l.kNorm(), l.ffnNorm(),
                    p.apply(l.ffnGate()), p.apply(l.ffnUp()), p.apply(l.ffnDown()),
                    p.apply(l.expertRouter()), p.apply(l.expertGate()), p.apply(l.expertUp()), p.apply(l.expertDown())));
        }
        Tensor emb = p.apply(tokenEmbedding);
        Tensor out0 = output == tokenEmbedding ? deviceOf.apply("output.weight").place(tokenEmbedding) : p.apply(output);
        return new ModelWeights(emb, out0, outputNorm, ropeFreqs, out);
    }

    public Tensor tokenEmbedding() { return tokenEmbedding; }

    public Tensor output() { return output; }

    public float[] outputNorm() { return outputNorm; }

    /** llama3-style per-pair RoPE frequency divisors, or null. */
    public float[] ropeFreqs() { return ropeFreqs; }

    public List<Layer> layers() { return layers; }

    public Layer layer(int i) { return layers.get(i); }
}
