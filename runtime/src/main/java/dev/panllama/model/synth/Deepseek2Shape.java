package dev.panllama.model.synth;

/**
 * The hyper-parameters of a synthetic deepseek2 model (the vocabulary comes from the tokenizer it copies).
 * Written in the current converter's layout: attn_k_b / attn_v_b, one KV head of {@code kvLora + rope}.
 *
 * @param feedForwardLength  n_ff of the leading dense layers
 * @param leadingDenseBlocks layers with a dense feed-forward before the MoE layers
 * @param expertGroups       expert groups for group-limited routing (0: none)
 * @param yarnFactor         YaRN rope.scaling.factor (0: no rope scaling)
 * @param yarnLogMultiplier  rope.scaling.yarn_log_multiplier as the converter writes it (0.1 × mscale_all_dim)
 */
public record Deepseek2Shape(int embeddingLength, int feedForwardLength, int headCount, int qLoraRank, int kvLoraRank,
                             int nopeDim, int ropeDim, int vDim, int blockCount, int leadingDenseBlocks,
                             int expertCount, int expertUsedCount, int expertFeedForwardLength, int sharedExperts,
                             int expertGroups, int expertGroupsUsed, float expertWeightsScale,
                             int contextLength, float ropeFreqBase, float rmsEps,
                             float yarnFactor, int yarnOriginalContext, float yarnLogMultiplier) {

    public Deepseek2Shape {
        for (int v : new int[]{embeddingLength, feedForwardLength, headCount, qLoraRank, kvLoraRank, nopeDim, ropeDim, vDim,
                blockCount, expertCount, expertUsedCount, expertFeedForwardLength, contextLength}) {
            if (v <= 0) throw new IllegalArgumentException("deepseek2 shape: every size must be positive: " + this);
        }
        if (ropeDim % 2 != 0) throw new IllegalArgumentException("rope dims " + ropeDim + " must be even");
        if (leadingDenseBlocks < 0 || sharedExperts < 0 || expertUsedCount > expertCount) {
            throw new IllegalArgumentException("deepseek2 shape: inconsistent layer or expert counts: " + this);
        }
        if (expertGroups > 1 && (expertCount % expertGroups != 0 || expertGroupsUsed <= 0 || expertGroupsUsed > expertGroups
                || expertUsedCount > expertGroupsUsed * (expertCount / expertGroups))) {
            throw new IllegalArgumentException("deepseek2 shape: " + expertGroupsUsed + " of " + expertGroups
                    + " expert groups cannot hold " + expertUsedCount + " of " + expertCount + " experts");
        }
    }

    public Deepseek2Shape withBlockCount(int layers) {
        return new Deepseek2Shape(embeddingLength, feedForwardLength, headCount, qLoraRank, kvLoraRank, nopeDim, ropeDim, vDim,
                layers, leadingDenseBlocks, expertCount, expertUsedCount, expertFeedForwardLength, sharedExperts,
                expertGroups, expertGroupsUsed, expertWeightsScale, contextLength, ropeFreqBase, rmsEps,
                yarnFactor, yarnOriginalContext, yarnLogMultiplier);
    }
}
