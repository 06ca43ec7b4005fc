package dev.panllama.model.synth;

import dev.panllama.gguf.GgufWriter;
import dev.panllama.model.Architecture;
import dev.panllama.gguf.LlamaFileType;
import dev.panllama.tensor.GgmlType;
import dev.panllama.util.ProgressListener;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A model with real shapes and random weights, written as GGUF for speed measurements without a
 * download. Matrices are Gaussian with standard deviation {@value #WEIGHT_STD} (the usual
 * initialisation scale, which keeps activations of the right order through many layers); RMS-norm
 * weights are {@code 1 + N(0, }{@value #NORM_NOISE}{@code )}. The tokenizer is copied from another GGUF,
 * so prompts tokenize as with a real model.
 *
 * <p>Tensor types follow {@code llama-quantize --pure}: every matrix, token_embd and output included,
 * has the requested type; norms and the expert router stay F32 (llama-quantize never quantizes
 * {@code ffn_gate_inp}). A matrix whose rows are not a whole number of the type's blocks is written F16.
 *
 * @param type the type of the matrices; any type with a quantizer and a llama.cpp file type
 * @param seed the weights are a function of the seed and each tensor's name only
 */
public record SyntheticModel(Architecture arch, SyntheticShape shape, GgmlType type, long seed) implements SyntheticGguf {
    static final float WEIGHT_STD = 0.02f;
    static final float NORM_NOISE = 0.02f;

    /** What {@link #write} produced. */
    public record Summary(Path file, long parameters, long tensorBytes, long fileBytes, double seconds) {
        /** Bits per weight of the tensor data, as llama.cpp prints it. */
        public double bitsPerWeight() { return 8.0 * tensorBytes / parameters; }
    }

    public SyntheticModel {
        if (arch != Architecture.LLAMA && arch != Architecture.QWEN3 && arch != Architecture.QWEN3MOE) {
            throw new IllegalArgumentException("synthetic llama-family models are llama, qwen3 or qwen3moe, not " + arch.ggufName()
                    + (arch == Architecture.DEEPSEEK2 ? " (see SyntheticDeepseek2)" : ""));
        }
        if ((arch == Architecture.QWEN3MOE) != shape.isMoe()) {
            throw new IllegalArgumentException(arch == Architecture.QWEN3MOE
                    ? "qwen3moe needs a shape with experts" : arch.ggufName() + " has no experts; use qwen3moe");
        }
        checkWritable(type);
    }

    /**
     * The model of a preset for an architecture: qwen3moe takes the preset's experts (tiny and moe have
     * them), llama and qwen3 take its dense shape (tiny and the dense presets).
     *
     * @param layers overrides the preset's layer count when positive
     */
    public static SyntheticModel of(Architecture arch, SyntheticPreset preset, int layers, GgmlType type, long seed) {
        SyntheticShape s = preset.shape();
        if (s == null) {
            throw new IllegalArgumentException("preset " + preset.cliName() + " is a deepseek2 shape; use --arch deepseek2");
        }
        if (arch == Architecture.QWEN3MOE && !s.isMoe()) {
            throw new IllegalArgumentException("preset " + preset.cliName() + " is dense; qwen3moe needs preset moe or tiny");
        }
        if (arch != Architecture.QWEN3MOE && preset == SyntheticPreset.MOE) {
            throw new IllegalArgumentException("preset moe is a qwen3moe shape; use --arch qwen3moe");
        }
        if (arch != Architecture.QWEN3MOE) s = s.dense();
        if (layers > 0) s = s.withBlockCount(layers);
        return new SyntheticModel(arch, s, type, seed);
    }

    /** The types synthetic models accept, by ggml name. */
    public static String supportedTypes() {
        List<String> names = new ArrayList<>();
        for (GgmlType t : GgmlType.values()) {
            if (t.hasCodec() && t.codec().canQuantize() && LlamaFileType.exists(t)) names.add(t.ggmlName());
        }
        return String.join(", ", names);
    }

    @Override
    public long parameterCount(int vocabSize) {
        return SyntheticWriter.parameterCount(plan(vocabSize));
    }

    @Override
    public Summary write(Path out, Path vocabFrom, int threads, ProgressListener progress) throws IOException {
        return SyntheticWriter.write(out, vocabFrom, seed, threads, progress, this::putHyperParameters, this::plan);
    }

    /** Whether {@code type} can be written: it has a quantizer and a llama.cpp file type. */
    static void checkWritable(GgmlType type) {
        if (!type.hasCodec() || !type.codec().canQuantize() || !LlamaFileType.exists(type)) {
            throw new IllegalArgumentException("cannot write models of type " + type + " (types: " + supportedTypes() + ")");
        }
    }

    private void putHyperParameters(GgufWriter w, int vocabSize) {
        String a = arch.ggufName();
        String p = a + ".";
        SyntheticShape s = shape;
        SyntheticWriter.putCommonKeys(w, a, seed, vocabSize, s.contextLength(), s.embeddingLength(), s.blockCount(),
                s.feedForwardLength(), s.headCount(), s.headCountKv(), s.ropeFreqBase(), s.rmsEps());
        w.putU32(p + "rope.dimension_count", s.headDim());
        // qwen3's converter always writes the head size; llama's derives it from n_embd / n_head.
        if (arch != Architecture.LLAMA || s.headDim() * s.headCount() != s.embeddingLength()) {
            w.putU32(p + "attention.key_length", s.headDim());
            w.putU32(p + "attention.value_length", s.headDim());
        }
        if (s.isMoe()) {
            w.putU32(p + "expert_count", s.expertCount());
            w.putU32(p + "expert_used_count", s.expertUsedCount());
            w.putU32(p + "expert_feed_forward_length", s.expertFeedForwardLength());
        }
        SyntheticWriter.putFileType(w, type);
    }

    /** The tensors in llama.cpp's converter order: embeddings, blocks, output norm, output. */
    private List<PlannedTensor> plan(int vocab) {
        SyntheticShape s = shape;
        long embd = s.embeddingLength();
        long q = (long) s.headCount() * s.headDim();
        long kv = (long) s.headCountKv() * s.headDim();
        List<PlannedTensor> t = new ArrayList<>();
        t.add(matrix("token_embd.weight", embd, vocab));
        for (int i = 0; i < s.blockCount(); i++) {
            String b = "blk." + i + ".";
            t.add(norm(b + "attn_norm.weight", embd));
            t.add(matrix(b + "attn_q.weight", embd, q));
            t.add(matrix(b + "attn_k.weight", embd, kv));
            t.add(matrix(b + "attn_v.weight", embd, kv));
            t.add(matrix(b + "attn_output.weight", q, embd));
            if (arch.qkNorm()) {
                t.add(norm(b + "attn_q_norm.weight", s.headDim()));
                t.add(norm(b + "attn_k_norm.weight", s.headDim()));
            }
            t.add(norm(b + "ffn_norm.weight", embd));
            if (s.isMoe()) {
                t.add(PlannedTensor.f32(b + "ffn_gate_inp.weight", embd, s.expertCount()));
                PlannedTensor.feedForward(t, type, b, "_exps", embd, s.expertFeedForwardLength(), s.expertCount());
            } else {
                PlannedTensor.feedForward(t, type, b, "", embd, s.feedForwardLength());
            }
        }
        t.add(norm("output_norm.weight", embd));
        t.add(matrix("output.weight", embd, vocab));
        return t;
    }

    private PlannedTensor matrix(String name, long... shape) {
        return PlannedTensor.matrix(type, name, shape);
    }

    private static PlannedTensor norm(String name, long n) {
        return PlannedTensor.norm(name, n);
    }
}
