package dev.panllama.model.synth;

/**
 * The hyper-parameters of a synthetic model; the vocabulary size comes from the tokenizer it copies.
 *
 * @param feedForwardLength       n_ff of dense layers (written for MoE models too, as their converters do)
 * @param headDim                 key and value length per head; need not be n_embd / n_head (qwen3)
 * @param expertCount             0 for a dense model
 * @param expertFeedForwardLength n_ff of one expert
 */
public record SyntheticShape(int embeddingLength, int feedForwardLength, int headCount, int headCountKv, int headDim,
                             int blockCount, int expertCount, int expertUsedCount, int expertFeedForwardLength,
                             int contextLength, float ropeFreqBase, float rmsEps) {

    public SyntheticShape {
        requirePositive("embedding length", embeddingLength);
        requirePositive("feed-forward length", feedForwardLength);
        requirePositive("head count", headCount);
        requirePositive("KV head count", headCountKv);
        requirePositive("head size", headDim);
        requirePositive("layer count", blockCount);
        requirePositive("context length", contextLength);
        if (headCount % headCountKv != 0) {
            throw new IllegalArgumentException("head count " + headCount + " is not a multiple of the KV head count " + headCountKv);
        }
        if (headDim % 2 != 0) throw new IllegalArgumentException("head size " + headDim + " must be even for RoPE");
        if (expertCount < 0 || expertUsedCount < 0 || expertUsedCount > expertCount) {
            throw new IllegalArgumentException("expert counts " + expertUsedCount + " used of " + expertCount + " are inconsistent");
        }
        if (expertCount > 0) {
            requirePositive("experts used per token", expertUsedCount);
            requirePositive("expert feed-forward length", expertFeedForwardLength);
        }
        if (!(ropeFreqBase > 0) || !(rmsEps > 0)) throw new IllegalArgumentException("rope base and RMS epsilon must be positive");
    }

    public boolean isMoe() { return expertCount > 0; }

    public SyntheticShape withBlockCount(int layers) {
        return new SyntheticShape(embeddingLength, feedForwardLength, headCount, headCountKv, headDim, layers, expertCount,
                expertUsedCount, expertFeedForwardLength, contextLength, ropeFreqBase, rmsEps);
    }

    /** The same shape without experts (for a dense architecture). */
    public SyntheticShape dense() {
        return new SyntheticShape(embeddingLength, feedForwardLength, headCount, headCountKv, headDim, blockCount, 0, 0, 0,
                contextLength, ropeFreqBase, rmsEps);
    }

    private static void requirePositive(String what, int v) {
        if (v <= 0) throw new IllegalArgumentException(what + " must be positive, not " + v);
    }
}
