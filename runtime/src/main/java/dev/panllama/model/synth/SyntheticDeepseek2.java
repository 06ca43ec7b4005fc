package dev.panllama.model.synth;

import dev.panllama.gguf.GgufWriter;
import dev.panllama.model.Architecture;
import dev.panllama.tensor.GgmlType;
import dev.panllama.util.ProgressListener;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A deepseek2 model with real shapes and random weights, in the layout of llama.cpp's current converter
 * (attn_k_b {@code [nope, kvLora, H]} and attn_v_b {@code [kvLora, v, H]}; {@code key_length = kvLora + rope},
 * {@code value_length = kvLora}, one KV head, {@code key_length_mla} / {@code value_length_mla} per head).
 * Values and tensor types as {@link SyntheticModel}: the router ({@code ffn_gate_inp}) and the selection
 * bias ({@code exp_probs_b}) stay F32.
 */
public record SyntheticDeepseek2(Deepseek2Shape shape, GgmlType type, long seed) implements SyntheticGguf {

    public SyntheticDeepseek2 {
        SyntheticModel.checkWritable(type);
    }

    /** The deepseek2 model of a preset (tiny or v3); {@code layers} overrides its layer count when positive. */
    public static SyntheticDeepseek2 of(SyntheticPreset preset, int layers, GgmlType type, long seed) {
        Deepseek2Shape s = preset.deepseek2Shape();
        if (s == null) throw new IllegalArgumentException("preset " + preset.cliName() + " has no deepseek2 shape (deepseek2 presets: tiny, v3)");
        return new SyntheticDeepseek2(layers > 0 ? s.withBlockCount(layers) : s, type, seed);
    }

    @Override
    public Architecture arch() { return Architecture.DEEPSEEK2; }

    @Override
    public long parameterCount(int vocabSize) {
        return SyntheticWriter.parameterCount(plan(vocabSize));
    }

    @Override
    public SyntheticModel.Summary write(Path out, Path vocabFrom, int threads, ProgressListener progress) throws IOException {
        return SyntheticWriter.write(out, vocabFrom, seed, threads, progress, this::putHyperParameters, this::plan);
    }

    /** The keys convert_hf_to_gguf.py writes for DeepSeek-V3 (DeepseekV2Model). */
    private void putHyperParameters(GgufWriter w, int vocabSize) {
        String p = "deepseek2.";
        Deepseek2Shape s = shape;
        SyntheticWriter.putCommonKeys(w, "deepseek2", seed, vocabSize, s.contextLength(), s.embeddingLength(), s.blockCount(),
                s.feedForwardLength(), s.headCount(), 1, s.ropeFreqBase(), s.rmsEps());
        w.putU32(p + "expert_count", s.expertCount());
        w.putU32(p + "expert_used_count", s.expertUsedCount());
        w.putU32(p + "rope.dimension_count", s.ropeDim());
        w.putU32(p + "attention.key_length", s.kvLoraRank() + s.ropeDim());
        w.putU32(p + "attention.value_length", s.kvLoraRank());
        w.putU32(p + "attention.key_length_mla", s.nopeDim() + s.ropeDim());
        w.putU32(p + "attention.value_length_mla", s.vDim());
        w.putU32(p + "leading_dense_block_count", s.leadingDenseBlocks());
        w.putU32(p + "attention.q_lora_rank", s.qLoraRank());
        w.putU32(p + "attention.kv_lora_rank", s.kvLoraRank());
        w.putU32(p + "expert_feed_forward_length", s.expertFeedForwardLength());
        w.putU32(p + "expert_shared_count", s.sharedExperts());
        w.putF32(p + "expert_weights_scale", s.expertWeightsScale());
        w.putBool(p + "expert_weights_norm", true);
        w.putU32(p + "expert_gating_func", 2);      // sigmoid
        if (s.expertGroups() > 1) {
            w.putU32(p + "expert_group_count", s.expertGroups());
            w.putU32(p + "expert_group_used_count", s.expertGroupsUsed());
        }
        if (s.yarnFactor() > 0) {
            w.putString(p + "rope.scaling.type", "yarn");
            w.putF32(p + "rope.scaling.factor", s.yarnFactor());
            w.putU32(p + "rope.scaling.original_context_length", s.yarnOriginalContext());
            w.putF32(p + "rope.scaling.yarn_log_multiplier", s.yarnLogMultiplier());
        }
        SyntheticWriter.putFileType(w, type);
    }

    /** The tensors in converter order: embeddings, blocks, output norm, output. */
    private List<PlannedTensor> plan(int vocab) {
        Deepseek2Shape s = shape;
        long embd = s.embeddingLength();
        long heads = s.headCount();
        List<PlannedTensor> t = new ArrayList<>();
        t.add(matrix("token_embd.weight", embd, vocab));
        for (int i = 0; i < s.blockCount(); i++) {
            String b = "blk." + i + ".";
            t.add(PlannedTensor.norm(b + "attn_norm.weight", embd));
            t.add(matrix(b + "attn_q_a.weight", embd, s.qLoraRank()));
            t.add(PlannedTensor.norm(b + "attn_q_a_norm.weight", s.qLoraRank()));
            t.add(matrix(b + "attn_q_b.weight", s.qLoraRank(), heads * (s.nopeDim() + s.ropeDim())));
            t.add(matrix(b + "attn_kv_a_mqa.weight", embd, s.kvLoraRank() + s.ropeDim()));
            t.add(PlannedTensor.norm(b + "attn_kv_a_norm.weight", s.kvLoraRank()));
            t.add(matrix(b + "attn_k_b.weight", s.nopeDim(), s.kvLoraRank(), heads));
            t.add(matrix(b + "attn_v_b.weight", s.kvLoraRank(), s.vDim(), heads));
            t.add(matrix(b + "attn_output.weight", heads * s.vDim(), embd));
            t.add(PlannedTensor.norm(b + "ffn_norm.weight", embd));
            if (i < s.leadingDenseBlocks()) {
                PlannedTensor.feedForward(t, type, b, "", embd, s.feedForwardLength());
            } else {
                long ff = s.expertFeedForwardLength();
                long n = s.expertCount();
                t.add(PlannedTensor.f32(b + "ffn_gate_inp.weight", embd, n));
                t.add(PlannedTensor.f32(b + "exp_probs_b.bias", n));
                PlannedTensor.feedForward(t, type, b, "_exps", embd, ff, n);
                if (s.sharedExperts() > 0) PlannedTensor.feedForward(t, type, b, "_shexp", embd, ff * s.sharedExperts());
            }
        }
        t.add(PlannedTensor.norm("output_norm.weight", embd));
        t.add(matrix("output.weight", embd, vocab));
        return t;
    }

    private PlannedTensor matrix(String name, long... dims) {
        return PlannedTensor.matrix(type, name, dims);
    }
}
