package dev.panllama.quantize;

import dev.panllama.model.synth.SyntheticPreset;
import dev.panllama.model.synth.SyntheticShape;
import dev.panllama.tensor.GgmlType;

import java.util.ArrayList;
import java.util.List;

/**
 * The tensor lists of the models {@code panllama synth} writes (llama.cpp's converter layout), without
 * writing them: the planner needs names, types and shapes only, and the 1b and moe presets are
 * gigabytes. {@link ModelLayoutsTest} checks this against a real synth file.
 */
final class ModelLayouts {
    private ModelLayouts() {}

    /** The Llama-2 SPM vocabulary the 1b preset is measured with (ggml-vocab-llama-spm.gguf). */
    static final int LLAMA2_VOCAB = 32000;

    static List<TensorSpec> llama(SyntheticShape s, int vocab, GgmlType type) {
        return build(s, vocab, type, false);
    }

    static List<TensorSpec> qwen3moe(SyntheticShape s, int vocab, GgmlType type) {
        return build(s, vocab, type, true);
    }

    static ModelFacts facts(String arch, SyntheticShape s) {
        return new ModelFacts(arch, s.blockCount(), s.expertCount(), s.headCount(), s.headCountKv());
    }

    static SyntheticShape preset(SyntheticPreset p, boolean moe) {
        return moe ? p.shape() : p.shape().dense();
    }

    private static List<TensorSpec> build(SyntheticShape s, int vocab, GgmlType type, boolean qwen3moe) {
        long embd = s.embeddingLength();
        long q = (long) s.headCount() * s.headDim();
        long kv = (long) s.headCountKv() * s.headDim();
        List<TensorSpec> t = new ArrayList<>();
        t.add(new TensorSpec("token_embd.weight", type, new long[]{embd, vocab}));
        for (int i = 0; i < s.blockCount(); i++) {
            String b = "blk." + i + ".";
            t.add(norm(b + "attn_norm.weight", embd));
            t.add(new TensorSpec(b + "attn_q.weight", type, new long[]{embd, q}));
            t.add(new TensorSpec(b + "attn_k.weight", type, new long[]{embd, kv}));
            t.add(new TensorSpec(b + "attn_v.weight", type, new long[]{embd, kv}));
            t.add(new TensorSpec(b + "attn_output.weight", type, new long[]{q, embd}));
            if (qwen3moe) {
                t.add(norm(b + "attn_q_norm.weight", s.headDim()));
                t.add(norm(b + "attn_k_norm.weight", s.headDim()));
            }
            t.add(norm(b + "ffn_norm.weight", embd));
            if (qwen3moe) {
                long ff = s.expertFeedForwardLength();
                long n = s.expertCount();
                t.add(new TensorSpec(b + "ffn_gate_inp.weight", GgmlType.F32, new long[]{embd, n}));
                t.add(new TensorSpec(b + "ffn_gate_exps.weight", type, new long[]{embd, ff, n}));
                t.add(new TensorSpec(b + "ffn_up_exps.weight", type, new long[]{embd, ff, n}));
                t.add(new TensorSpec(b + "ffn_down_exps.weight", type, new long[]{ff, embd, n}));
            } else {
                long ff = s.feedForwardLength();
                t.add(new TensorSpec(b + "ffn_gate.weight", type, new long[]{embd, ff}));
                t.add(new TensorSpec(b + "ffn_up.weight", type, new long[]{embd, ff}));
                t.add(new TensorSpec(b + "ffn_down.weight", type, new long[]{ff, embd}));
            }
        }
        t.add(norm("output_norm.weight", embd));
        t.add(new TensorSpec("output.weight", type, new long[]{embd, vocab}));
        return t;
    }

    private static TensorSpec norm(String name, long n) {
        return new TensorSpec(name, GgmlType.F32, new long[]{n});
    }
}
