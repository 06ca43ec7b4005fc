package dev.panllama.model;

import dev.panllama.backend.Device;
import dev.panllama.gguf.TensorSource;
import dev.panllama.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import static dev.panllama.model.TensorNames.bias;
import static dev.panllama.model.TensorNames.weight;

/**
 * The tensors of a llama-family model by role, with llama.cpp's tensor names. Matrices stay zero-copy
 * {@link Tensor}s over the mapped file; the small vectors (norms, biases) are decoded to float once.
 */
public final class LlamaWeights {

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

    private LlamaWeights(Tensor tokenEmbedding, Tensor output, float[] outputNorm, float[] ropeFreqs, List<Layer> layers) {
        this.tokenEmbedding = tokenEmbedding;
        this.output = output;
        this.outputNorm = outputNorm;
        this.ropeFreqs = ropeFreqs;
        this.layers = List.copyOf(layers);
    }

    /** Loads every weight through {@code s}, which checks its shape (and notes it as used). */
    static LlamaWeights load(WeightShapes s, ModelConfig c) {
        TensorSource gguf = s.source();
        Tensor emb = s.matrix(TensorNames.TOKEN_EMBD, c.embeddingLength(), c.vocabSize());
        // Without output.weight the output projection is tied to the embeddings (llama.cpp does the same).
        Tensor out = gguf.hasTensor(TensorNames.OUTPUT) ? s.matrix(TensorNames.OUTPUT, c.embeddingLength(), c.vocabSize()) : emb;
        float[] outNorm = s.vector(TensorNames.OUTPUT_NORM, c.embeddingLength());
        float[] ropeFreqs = gguf.hasTensor(TensorNames.ROPE_FREQS) ? s.vector(TensorNames.ROPE_FREQS, c.nRot() / 2) : null;
        Architecture a = c.arch();
        List<Layer> layers = new ArrayList<>(c.blockCount());
        for (int i = 0; i < c.blockCount(); i++) {
            // As in llama.cpp (build_llama, qwen3moe): with experts every block routes, without none does.
            boolean moe = c.isMoe();
            layers.add(new Layer(
                    s.vector(weight(i, "attn_norm"), c.embeddingLength()),
                    s.matrix(weight(i, "attn_q"), c.embeddingLength(), c.qDim()),
                    s.matrix(weight(i, "attn_k"), c.embeddingLength(), c.kvDimK()),
                    s.matrix(weight(i, "attn_v"), c.embeddingLength(), c.kvDimV()),
                    s.matrix(weight(i, "attn_output"), c.headCount() * c.headDimV(), c.embeddingLength()),
                    a.qkvBias() ? s.vector(bias(i, "attn_q"), c.qDim()) : null,
                    a.qkvBias() ? s.vector(bias(i, "attn_k"), c.kvDimK()) : null,
                    a.qkvBias() ? s.vector(bias(i, "attn_v"), c.kvDimV()) : null,
                    a.qkNorm() ? s.vector(weight(i, "attn_q_norm"), c.headDimK()) : null,
                    a.qkNorm() ? s.vector(weight(i, "attn_k_norm"), c.headDimK()) : null,
                    s.vector(weight(i, "ffn_norm"), c.embeddingLength()),
                    moe ? null : s.matrix(weight(i, "ffn_gate"), c.embeddingLength(), c.feedForwardLength()),
                    moe ? null : s.matrix(weight(i, "ffn_up"), c.embeddingLength(), c.feedForwardLength()),
                    moe ? null : s.matrix(weight(i, "ffn_down"), c.feedForwardLength(), c.embeddingLength()),
                    moe ? s.matrix(weight(i, "ffn_gate_inp"), c.embeddingLength(), c.expertCount()) : null,
                    moe ? s.tensor3(weight(i, "ffn_gate_exps"), c.embeddingLength(), c.expertFeedForwardLength(), c.expertCount()) : null,
                    moe ? s.tensor3(weight(i, "ffn_up_exps"), c.embeddingLength(), c.expertFeedForwardLength(), c.expertCount()) : null,
                    moe ? s.tensor3(weight(i, "ffn_down_exps"), c.expertFeedForwardLength(), c.embeddingLength(), c.expertCount()) : null));
        }
        return new LlamaWeights(emb, out, outNorm, ropeFreqs, layers);
    }

    /**
     * These weights as the devices holding them use them: {@link Device#place} of each matrix (host devices
     * return the mapped tensor itself; others upload it). Norms and biases are floats on the host.
     */
    public LlamaWeights placed(Function<String, Device> deviceOf) {
        UnaryOperator<Tensor> p = t -> t == null ? null : deviceOf.apply(t.name()).place(t);
        List<Layer> out = new ArrayList<>(layers.size());
        for (Layer l : layers) {
            out.add(new Layer(l.attnNorm(), p.apply(l.wq()), p.apply(l.wk()), p.apply(l.wv()), p.apply(l.wo()),
                    l.bq(), l.bk(), l.bv(), l.qNorm(), l.kNorm(), l.ffnNorm(),
                    p.apply(l.ffnGate()), p.apply(l.ffnUp()), p.apply(l.ffnDown()),
                    p.apply(l.expertRouter()), p.apply(l.expertGate()), p.apply(l.expertUp()), p.apply(l.expertDown())));
        }
        Tensor emb = p.apply(tokenEmbedding);
        Tensor out0 = output == tokenEmbedding ? deviceOf.apply(TensorNames.OUTPUT).place(tokenEmbedding) : p.apply(output);
        return new LlamaWeights(emb, out0, outputNorm, ropeFreqs, out);
    }

    public Tensor tokenEmbedding() { return tokenEmbedding; }

    public Tensor output() { return output; }

    public float[] outputNorm() { return outputNorm; }

    /** llama3-style per-pair RoPE frequency divisors, or null. */
    public float[] ropeFreqs() { return ropeFreqs; }

    public List<Layer> layers() { return layers; }

    public Layer layer(int i) { return layers.get(i); }
}
