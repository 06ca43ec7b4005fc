package dev.panllama.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * llama.cpp's default sampler chain (common/sampling.cpp): penalties → top-k → top-p → min-p →
 * temperature → draw from the softmax; greedy (arg max after penalties) when the temperature is 0.
 * Penalties follow llama_sampler_penalties: over the last {@code repeatLastN} tokens a positive logit
 * is divided by the repetition penalty and a negative one multiplied; frequency and presence penalties
 * subtract {@code count * freq + (count > 0) * presence}.
 */
public final class Sampler {
    private final SamplerParams p;
    private final SplittableRandom rng;
    private final long seed;
    private int[] history = new int[64];
    private int historySize;

    public Sampler(SamplerParams params) {
        this.p = params;
        this.seed = params.seed() < 0 ? new SplittableRandom().nextLong() & 0xFFFFFFFFL : params.seed();
        this.rng = new SplittableRandom(seed);
    }

    public SamplerParams params() { return p; }

    /** The seed in use (drawn at random when the params asked for -1). */
    public long seed() { return seed; }

    /** Records a token (prompt or generated) for the penalties. */
    public void accept(int token) {
        if (historySize == history.length) history = Arrays.copyOf(history, history.length * 2);
        history[historySize++] = token;
    }

    public void reset() { historySize = 0; }

    /** Picks the next token from {@code logits[0, vocab)}; the array is modified. */
    public int sample(float[] logits, int vocab) {
        applyPenalties(logits, vocab);
        if (p.greedy()) return argMax(logits, vocab);

        // Candidates sorted by logit, descending, cut to top-k (all when top-k <= 0).
        int k = p.topK() > 0 ? Math.min(p.topK(), vocab) : vocab;
        int[] ids = topIds(logits, vocab, k);
        int n = ids.length;

        // top-p: softmax over the candidates, keep the smallest prefix whose mass reaches p.
        if (p.topP() < 1.0f) {
            float[] probs = softmax(logits, ids, n, 1.0f);
            double cum = 0;
            int keep = n;
            for (int i = 0; i < n; i++) {
                cum += probs[i];
                if (cum >= p.topP()) { keep = i + 1; break; }
            }
            n = Math.max(1, keep);
        }
        // min-p: keep logits within log(min_p) of the best (llama_sampler_min_p on sorted logits).
        if (p.minP() > 0) {
            float threshold = logits[ids[0]] + (float) Math.log(p.minP());
            int keep = 1;
            while (keep < n && logits[ids[keep]] >= threshold) keep++;
            n = keep;
        }
        float[] probs = softmax(logits, ids, n, p.temperature());
        double r = rng.nextDouble();
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += probs[i];
            if (r < cum) return ids[i];
        }
        return ids[n - 1];
    }

    private void applyPenalties(float[] logits, int vocab) {
        boolean repeat = p.repeatPenalty() != 1.0f;
        boolean freq = p.frequencyPenalty() != 0f || p.presencePenalty() != 0f;
        if ((!repeat && !freq) || historySize == 0 || p.repeatLastN() == 0) return;
        int window = p.repeatLastN() < 0 ? historySize : Math.min(p.repeatLastN(), historySize);
        java.util.HashMap<Integer, Integer> counts = new java.util.HashMap<>();
        for (int i = historySize - window; i < historySize; i++) counts.merge(history[i], 1, Integer::sum);
        for (var e : counts.entrySet()) {
            int id = e.getKey();
            if (id < 0 || id >= vocab) continue;
            if (repeat) logits[id] = logits[id] > 0 ? logits[id] / p.repeatPenalty() : logits[id] * p.repeatPenalty();
            logits[id] -= e.getValue() * p.frequencyPenalty() + p.presencePenalty();
        }
    }

    public static int argMax(float[] logits, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** The ids of the k largest logits, largest first (ties: lower id first). */
    static int[] topIds(float[] logits, int vocab, int k) {
        if (k >= vocab) {
            Integer[] all = new Integer[vocab];
            for (int i = 0; i < vocab; i++) all[i] = i;
            Arrays.sort(all, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(a, b));
            int[] out = new int[vocab];
            for (int i = 0; i < vocab; i++) out[i] = all[i];
            return out;
        }
        // Insertion into a sorted window of size k: O(vocab * log k) comparisons in practice for small k.
        int[] top = new int[k];
        int size = 0;
        for (int i = 0; i < vocab; i++) {
            float v = logits[i];
            if (size == k && v <= logits[top[k - 1]]) continue;
            int pos = size < k ? size : k - 1;
            while (pos > 0 && logits[top[pos - 1]] < v) {
                if (pos < k) top[pos] = top[pos - 1];
                pos--;
            }
            if (size < k) size++;
            top[pos] = i;
        }
        return top;
    }

    private static float[] softmax(float[] logits, int[] ids, int n, float temperature) {
        float[] out = new float[n];
        float max = logits[ids[0]] / temperature;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            out[i] = (float) Math.exp(logits[ids[i]] / temperature - max);
            sum += out[i];
        }
        for (int i = 0; i < n; i++) out[i] = (float) (out[i] / sum);
        return out;
    }
}
