package dev.panllama.model;

import dev.panllama.backend.Device;
import dev.panllama.gguf.TensorSource;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import static dev.panllama.model.TensorNames.bias;
import static dev.panllama.model.TensorNames.weight;

/**
 * The tensors of a deepseek2 model by role, with llama.cpp's names (src/llama-arch.cpp). Matrices are
 * zero-copy views of the mapped file, except in legacy files: there {@code attn_kv_b} holds each head's
 * key rows [nope][kvLora] followed by its value rows [v][kvLora], and the absorbed query needs the key
 * part transposed, so it is copied once at load into {@code [nope, kvLora, H]} (the current layout's
 * attn_k_b), F16 unless attn_kv_b is F32. The value rows are used in place.
 */
public final class Deepseek2Weights {

    /**
     * One head's rows of a per-head weight: head h is rows {@code [offset + h * stride, + rows)}.
     * attn_k_b: rows of {@code nope} values mapping a head's q_nope to the latent ({@code kvLora} rows);
     * attn_v_b (or attn_kv_b's value rows): rows of {@code kvLora} values mapping the latent to the head's value.
     */
    public record HeadRows(Tensor tensor, long offset, long stride, int rows) {
        HeadRows on(Tensor placed) { return new HeadRows(placed, offset, stride, rows); }
    }

    /**
     * One block. Either the q LoRA (wqA, qANorm, wqB) or wq is present; the dense feed-forward or the
     * experts (with shared experts and the selection bias where the file has them).
     */
    public record Layer(float[] attnNorm, Tensor wqA, float[] qANorm, Tensor wqB, Tensor wq,
                        Tensor wkvA, float[] kvANorm, HeadRows kAbsorb, HeadRows vUp, Tensor wo,
                        float[] ffnNorm, Tensor ffnGate, Tensor ffnUp, Tensor ffnDown,
                        Tensor router, float[] probsBias, Tensor expGate, Tensor expUp, Tensor expDown,
                        Tensor shexpGate, Tensor shexpUp, Tensor shexpDown) {
        public boolean isMoe() { return router != null; }

        public boolean hasSharedExperts() { return shexpGate != null; }
    }

    private final Tensor tokenEmbedding;
    private final Tensor output;
    private final float[] outputNorm;
    private final List<Layer> layers;

    private Deepseek2Weights(Tensor tokenEmbedding, Tensor output, float[] outputNorm, List<Layer> layers) {
        this.tokenEmbedding = tokenEmbedding;
        this.output = output;
        this.outputNorm = outputNorm;
        this.layers = List.copyOf(layers);
    }

    /** Loads every weight through {@code s}, which checks its shape (and notes it as used). */
    static Deepseek2Weights load(WeightShapes s, Deepseek2Config dc) {
        ModelConfig c = dc.base();
        TensorSource gguf = s.source();
        long embd = c.embeddingLength();
        int heads = c.headCount();
        Tensor emb = s.matrix(TensorNames.TOKEN_EMBD, embd, c.vocabSize());
        Tensor out = gguf.hasTensor(TensorNames.OUTPUT) ? s.matrix(TensorNames.OUTPUT, embd, c.vocabSize()) : emb;
        float[] outNorm = s.vector(TensorNames.OUTPUT_NORM, embd);
        List<Layer> layers = new ArrayList<>(c.blockCount());
        for (int i = 0; i < c.blockCount(); i++) {
            long qDim = (long) heads * dc.qkHeadDim();
            boolean qLora = dc.qLoraRank() > 0;
            HeadRows kAbsorb, vUp;
            if (dc.latentLayout()) {
                Tensor kb = s.tensor3(weight(i, "attn_k_b"), dc.nopeDim(), dc.kvLoraRank(), heads);
                Tensor vb = s.tensor3(weight(i, "attn_v_b"), dc.kvLoraRank(), dc.vDim(), heads);
                kAbsorb = new HeadRows(kb, 0, dc.kvLoraRank(), dc.kvLoraRank());
                vUp = new HeadRows(vb, 0, dc.vDim(), dc.vDim());
            } else {
                Tensor kvb = s.matrix(weight(i, "attn_kv_b"), dc.kvLoraRank(), (long) heads * (dc.nopeDim() + dc.vDim()));
                kAbsorb = new HeadRows(transposedKeyRows(kvb, dc, weight(i, "attn_k_b")), 0, dc.kvLoraRank(), dc.kvLoraRank());
                vUp = new HeadRows(kvb, dc.nopeDim(), dc.nopeDim() + dc.vDim(), dc.vDim());
            }
            boolean moe = !dc.isDenseLayer(i);
            long ff = c.feedForwardLength();
            long eff = c.expertFeedForwardLength();
            long sff = eff * dc.sharedExperts();
            boolean shared = moe && dc.sharedExperts() > 0;
            layers.add(new Layer(
                    s.vector(weight(i, "attn_norm"), embd),
                    qLora ? s.matrix(weight(i, "attn_q_a"), embd, dc.qLoraRank()) : null,
                    qLora ? s.vector(weight(i, "attn_q_a_norm"), dc.qLoraRank()) : null,
                    qLora ? s.matrix(weight(i, "attn_q_b"), dc.qLoraRank(), qDim) : null,
                    qLora ? null : s.matrix(weight(i, "attn_q"), embd, qDim),
                    s.matrix(weight(i, "attn_kv_a_mqa"), embd, dc.latentDim()),
                    s.vector(weight(i, "attn_kv_a_norm"), dc.kvLoraRank()),
                    kAbsorb, vUp,
                    s.matrix(weight(i, "attn_output"), (long) heads * dc.vDim(), embd),
                    s.vector(weight(i, "ffn_norm"), embd),
                    moe ? null : s.matrix(weight(i, "ffn_gate"), embd, ff),
                    moe ? null : s.matrix(weight(i, "ffn_up"), embd, ff),
                    moe ? null : s.matrix(weight(i, "ffn_down"), ff, embd),
                    moe ? s.matrix(weight(i, "ffn_gate_inp"), embd, c.expertCount()) : null,
                    moe && gguf.hasTensor(bias(i, "exp_probs_b")) ? s.vector(bias(i, "exp_probs_b"), c.expertCount()) : null,
                    moe ? s.tensor3(weight(i, "ffn_gate_exps"), embd, eff, c.expertCount()) : null,
                    moe ? s.tensor3(weight(i, "ffn_up_exps"), embd, eff, c.expertCount()) : null,
                    moe ? s.tensor3(weight(i, "ffn_down_exps"), eff, embd, c.expertCount()) : null,
                    shared ? s.matrix(weight(i, "ffn_gate_shexp"), embd, sff) : null,
                    shared ? s.matrix(weight(i, "ffn_up_shexp"), embd, sff) : null,
                    shared ? s.matrix(weight(i, "ffn_down_shexp"), sff, embd) : null));
        }
        return new Deepseek2Weights(emb, out, outNorm, layers);
    }

    /**
     * attn_kv_b's key rows, head by head, transposed into {@code [nope, kvLora, H]}: row (h, j) holds
     * the j-th latent column of head h's nope key rows, so a head's absorbed query is a plain matmul.
     */
    private static Tensor transposedKeyRows(Tensor kvb, Deepseek2Config dc, String name) {
        int nope = dc.nopeDim(), kvLora = dc.kvLoraRank(), heads = dc.headCount();
        GgmlType type = kvb.type() == GgmlType.F32 ? GgmlType.F32 : GgmlType.F16;
        long rowBytes = type.rowBytes(nope);
        // Freed with the weights by the garbage collector: the model keeps them for its whole life.
        MemorySegment data = Arena.ofAuto().allocate(rowBytes * kvLora * heads, 64);
        float[] keyRows = new float[nope * kvLora];
        float[] column = new float[nope];
        for (int h = 0; h < heads; h++) {
            long first = (long) h * (nope + dc.vDim());
            for (int i = 0; i < nope; i++) kvb.dequantizeRow(first + i, keyRows, i * kvLora);
            for (int j = 0; j < kvLora; j++) {
                for (int i = 0; i < nope; i++) column[i] = keyRows[i * kvLora + j];
                type.codec().quantize(column, 0, data, ((long) h * kvLora + j) * rowBytes, nope);
            }
        }
        return new Tensor(name, type, new long[]{nope, kvLora, heads}, data);
    }

    /**
     * These weights as the devices holding them use them ({@link Device#place}); the transposed key rows
     * of a legacy file go where attn_kv_b goes. Norms and the selection bias stay host floats.
     */
    public Deepseek2Weights placed(Function<String, Device> deviceOf, boolean latentLayout) {
        UnaryOperator<Tensor> p = t -> t == null ? null : deviceOf.apply(t.name()).place(t);
        List<Layer> out = new ArrayList<>(layers.size());
        for (Layer l : layers) {
            Tensor kb = latentLayout ? p.apply(l.kAbsorb().tensor())
                    : deviceOf.apply(l.vUp().tensor().name()).place(l.kAbsorb().tensor());
            out.add(new Layer(l.attnNorm(), p.apply(l.wqA()), l.qANorm(), p.apply(l.wqB()), p.apply(l.wq()),
                    p.apply(l.wkvA()), l.kvANorm(), l.kAbsorb().on(kb), l.vUp().on(p.apply(l.vUp().tensor())), p.apply(l.wo()),
                    l.ffnNorm(), p.apply(l.ffnGate()), p.apply(l.ffnUp()), p.apply(l.ffnDown()),
                    p.apply(l.router()), l.probsBias(), p.apply(l.expGate()), p.apply(l.expUp()), p.apply(l.expDown()),
                    p.apply(l.shexpGate()), p.apply(l.shexpUp()), p.apply(l.shexpDown())));
        }
        Tensor emb = p.apply(tokenEmbedding);
        Tensor out0 = output == tokenEmbedding ? deviceOf.apply(TensorNames.OUTPUT).place(tokenEmbedding) : p.apply(output);
        return new Deepseek2Weights(emb, out0, outputNorm, out);
    }

    public Tensor tokenEmbedding() { return tokenEmbedding; }

    public Tensor output() { return output; }

    public float[] outputNorm() { return outputNorm; }

    public Layer layer(int i) { return layers.get(i); }

    public List<Layer> layers() { return layers; }
}
