package dev.panllama.model;

import dev.panllama.gguf.GgufMetadata;

/**
 * Hyper-parameters of a model, read from GGUF metadata with llama.cpp's key names
 * ({@code ARCH.embedding_length}, {@code ARCH.attention.head_count}, ...; src/llama-arch.cpp) and its
 * defaults where a key is optional.
 *
 * @param nRot           dimensions rotated by RoPE (rope.dimension_count, default head_dim)
 * @param ropeFreqScale  1/factor for linear RoPE scaling or YaRN, 1 otherwise
 * @param ropeScaling    the scaling and, with YaRN, its parameters
 * @param vocabSize      rows of token_embd (the tokenizer may list the same count)
 */
public record ModelConfig(Architecture arch, String name, int contextLength, int embeddingLength, int blockCount,
                          int feedForwardLength, int headCount, int headCountKv, int headDimK, int headDimV,
                          float rmsEps, int nRot, float ropeFreqBase, float ropeFreqScale, int vocabSize,
                          int expertCount, int expertUsedCount, int expertFeedForwardLength, RopeScaling ropeScaling) {

    /** Without RoPE scaling beyond the linear {@code ropeFreqScale}. */
    public ModelConfig(Architecture arch, String name, int contextLength, int embeddingLength, int blockCount,
                       int feedForwardLength, int headCount, int headCountKv, int headDimK, int headDimV,
                       float rmsEps, int nRot, float ropeFreqBase, float ropeFreqScale, int vocabSize,
                       int expertCount, int expertUsedCount, int expertFeedForwardLength) {
        this(arch, name, contextLength, embeddingLength, blockCount, feedForwardLength, headCount, headCountKv, headDimK, headDimV,
                rmsEps, nRot, ropeFreqBase, ropeFreqScale, vocabSize, expertCount, expertUsedCount, expertFeedForwardLength,
                new RopeScaling(ropeFreqScale, 0f, 1f, 32f, 1f, contextLength));
    }

    /**
     * Reads the hyper-parameters, each checked for type and range ({@link HyperparameterKeys}); their
     * agreement with the tensors is checked by {@link HyperparameterChecks} before any weight loads.
     *
     * @param vocabRows rows of token_embd.weight, the vocabulary size unless ARCH.vocab_size is given
     */
    public static ModelConfig fromMetadata(GgufMetadata md, long vocabRows) {
        String archName = md.getString("general.architecture");
        Architecture arch = Architecture.byGgufName(archName);
        HyperparameterKeys k = new HyperparameterKeys(md, archName);
        int layers = k.count("block_count", 1);
        int embd = k.count("embedding_length", 1);
        int heads = k.perLayerCount("attention.head_count", layers, 0, 1);
        if (heads == 0) throw new IllegalArgumentException("missing metadata key '" + k.key("attention.head_count") + "'");
        int headsKv = k.perLayerCount("attention.head_count_kv", layers, heads, 1);
        if (heads % headsKv != 0) {
            throw k.invalid("attention.head_count_kv", headsKv, "it must divide " + k.key("attention.head_count") + " = " + heads);
        }
        // llama.cpp's default head size is n_embd / n_head (llama-model.cpp, load_hparams).
        if (heads > embd && !(k.contains("attention.key_length") && k.contains("attention.value_length"))) {
            throw k.invalid("attention.head_count", heads, "it exceeds " + k.key("embedding_length") + " = " + embd
                    + ", and without attention.key_length / value_length the head size is embedding_length / head_count");
        }
        int headDimK = k.count("attention.key_length", embd / heads, 1);
        int headDimV = k.count("attention.value_length", embd / heads, 1);
        int nRot = k.count("rope.dimension_count", headDimK, 2);
        if (nRot > headDimK || nRot % 2 != 0) {
            throw k.invalid("rope.dimension_count", nRot, "it must be even and at most the head size " + headDimK
                    + (k.contains("attention.key_length") ? " (" + k.key("attention.key_length") + ")" : ""));
        }
        int contextLength = k.count("context_length", 2048, 1);
        RopeScaling rope = RopeScaling.read(md, k, contextLength);
        int nff = k.perLayerCount("feed_forward_length", layers, 0, 0);
        int experts = k.count("expert_count", 0, 0);
        int used = k.count("expert_used_count", 0, 0);
        int expertFf = k.count("expert_feed_forward_length", nff, 1);
        if (vocabRows < 1 || vocabRows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor 'token_embd.weight' has " + vocabRows + " rows, but a vocabulary has 1 to "
                    + Integer.MAX_VALUE + " tokens");
        }
        int vocab = k.count("vocab_size", (int) vocabRows, 1);
        return new ModelConfig(arch, md.getString("general.name", archName), contextLength,
                embd, layers, nff, heads, headsKv, headDimK, headDimV,
                k.real("attention.layer_norm_rms_epsilon", 1e-5f, true), nRot,
                k.real("rope.freq_base", 10000f, true), rope.freqScale(), vocab, experts, used, expertFf, rope);
    }

    public int kvDimK() { return headCountKv * headDimK; }

    public int kvDimV() { return headCountKv * headDimV; }

    public int qDim() { return headCount * headDimK; }

    public boolean isMoe() { return expertCount > 0; }

    /** Parameters of the transformer body, as llama.cpp prints "model params". */
    public String describe() {
        return String.format("%s: n_embd %d, n_layer %d, n_head %d, n_head_kv %d, head_dim %d, n_ff %d, n_rot %d, rope base %.0f%s, vocab %d%s",
                arch.ggufName(), embeddingLength, blockCount, headCount, headCountKv, headDimK, feedForwardLength, nRot,
                ropeFreqBase, ropeFreqScale != 1f ? ", rope scale " + ropeFreqScale + (ropeScaling.yarn() ? " (YaRN from " + ropeScaling.origContext() + ")" : "") : "", vocabSize,
                isMoe() ? ", experts " + expertUsedCount + "/" + expertCount : "");
    }
}
