package dev.panllama.sampling;

/**
 * A generated token's log probability under the model (the log-softmax of its raw logits, before
 * penalties, temperature or truncation: what OpenAI's logprobs and llama.cpp's n_probs report), and the
 * most probable tokens at that position with theirs, most probable first.
 */
public record TokenLogprob(int token, float logprob, int[] topTokens, float[] topLogprobs) {
    /** The log probabilities at {@code logits[0, vocab)} of {@code token} and of the {@code top} most probable tokens. */
    public static TokenLogprob of(float[] logits, int vocab, int token, int top) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(logits[i] - max);
        float logZ = (float) (max + Math.log(sum));
        int[] ids = top > 0 ? Sampler.topIds(logits, vocab, Math.min(top, vocab)) : new int[0];
        float[] lps = new float[ids.length];
        for (int i = 0; i < ids.length; i++) lps[i] = logits[ids[i]] - logZ;
        return new TokenLogprob(token, logits[token] - logZ, ids, lps);
    }
}
