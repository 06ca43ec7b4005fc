package dev.panllama.model;

import dev.panllama.gguf.GgufArray;
import dev.panllama.gguf.GgufMetadata;

import java.util.Locale;

/**
 * Hyper-parameters of a model, read from GGUF metadata with llama.cpp's key names
 * ({@code ARCH.embedding_length}, {@code ARCH.attention.head_count}, ...; src/llama-arch.cpp) and its
 * defaults where a key is optional.
 *
 * @param nRot           dimensions rotated by RoPE (rope.dimension_count, default head_dim)
 * @param ropeFreqScale  1/factor for linear RoPE scaling, 1 otherwise
 * @param vocabSize      rows of token_embd (the tokenizer may list the same count)
 */
public record ModelConfig(Architecture arch, String name, int contextLength, int embeddingLength, int blockCount,
                          int feedForwardLength, int headCount, int headCountKv, int headDimK, int headDimV,
                          float rmsEps, int nRot, float ropeFreqBase, float ropeFreqScale, int vocabSize,
                          int expertCount, int expertUsedCount, int expertFeedForwardLength) {

    public static ModelConfig fromMetadata(GgufMetadata md, int vocabRows) {
        String archName = md.getString("general.architecture");
        Architecture arch = Architecture.byGgufName(archName);
        String p = archName + ".";
        int embd = md.getInt(p + "embedding_length");
        int layers = md.getInt(p + "block_count");
        int heads = perLayerUniform(md, p + "attention.head_count", 0);
        int headsKv = perLayerUniform(md, p + "attention.head_count_kv", heads);
        if (heads <= 0 || headsKv <= 0 || heads % headsKv != 0) {
            throw new IllegalArgumentException(archName + ": head_count " + heads + " must be a positive multiple of head_count_kv " + headsKv);
        }
        int headDimK = md.getInt(p + "attention.key_length", embd / heads);
        int headDimV = md.getInt(p + "attention.value_length", embd / heads);
        int nRot = md.getInt(p + "rope.dimension_count", headDimK);
        if (nRot > headDimK || nRot % 2 != 0) {
            throw new IllegalArgumentException(archName + ": rope.dimension_count " + nRot + " must be even and at most the head size " + headDimK);
        }
        float freqScale = 1.0f;
        String scaling = md.getString(p + "rope.scaling.type", "none").toLowerCase(Locale.ROOT);
        float factor = md.getFloat(p + "rope.scaling.factor", 0f);
        if (md.contains(p + "rope.scale_linear")) {
            freqScale = 1.0f / md.getFloat(p + "rope.scale_linear", 1f);
        } else if (scaling.equals("linear") && factor > 0) {
            freqScale = 1.0f / factor;
        } else if (scaling.equals("yarn") && arch.latentAttention() && factor > 0) {
            freqScale = 1.0f / factor;      // the other YaRN parameters are read by Deepseek2Config
        } else if (!scaling.equals("none") && !scaling.equals("linear")) {
            throw new IllegalArgumentException(archName + ": rope scaling '" + scaling + "' is not supported yet");
        }
        int nff = md.getInt(p + "feed_forward_length", 0);
        int experts = md.getInt(p + "expert_count", 0);
        int used = md.getInt(p + "expert_used_count", 0);
        int expertFf = md.getInt(p + "expert_feed_forward_length", nff);
        int vocab = md.getInt(p + "vocab_size", vocabRows);
        return new ModelConfig(arch, md.getString("general.name", archName), md.getInt(p + "context_length", 2048),
                embd, layers, nff, heads, headsKv, headDimK, headDimV,
                md.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f), nRot,
                md.getFloat(p + "rope.freq_base", 10000f), freqScale, vocab, experts, used, expertFf);
    }

    /** A per-layer key may be an array (llama.cpp allows it); we support it when all layers agree. */
    private static int perLayerUniform(GgufMetadata md, String key, int fallback) {
        if (!md.contains(key)) return fallback;
        var e = md.entry(key).orElseThrow();
        if (e.value() instanceof GgufArray a) {
            int[] v = a.toIntArray();
            for (int x : v) {
                if (x != v[0]) throw new IllegalArgumentException(key + " differs between layers, which is not supported yet");
            }
            return v.length == 0 ? fallback : v[0];
        }
        return md.getInt(key);
    }

    public int kvDimK() { return headCountKv * headDimK; }

    public int kvDimV() { return headCountKv * headDimV; }

    public int qDim() { return headCount * headDimK; }

    public boolean isMoe() { return expertCount > 0; }

    /** Parameters of the transformer body, as llama.cpp prints "model params". */
    public String describe() {
        return String.format("%s: n_embd %d, n_layer %d, n_head %d, n_head_kv %d, head_dim %d, n_ff %d, n_rot %d, rope base %.0f%s, vocab %d%s",
                arch.ggufName(), embeddingLength, blockCount, headCount, headCountKv, headDimK, feedForwardLength, nRot,
                ropeFreqBase, ropeFreqScale != 1f ? ", rope scale " + ropeFreqScale : "", vocabSize,
                isMoe() ? ", experts " + expertUsedCount + "/" + expertCount : "");
    }
}
