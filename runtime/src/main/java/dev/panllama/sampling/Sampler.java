package dev.panllama.sampling;

import dev.panllama.sampling.SamplerChain.Stage;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * llama.cpp's sampler chain (common/sampling.cpp, src/llama-sampling.cpp): logit biases, then the stages
 * in {@link SamplerChain#order} (default penalties → DRY → top-n-sigma → top-k → typical → top-p →
 * min-p → XTC → temperature), then a draw from the softmax; with Mirostat, temperature then Mirostat
 * instead of the truncating stages. A temperature of 0 or below keeps only the most probable token
 * (greedy). Penalties follow llama_sampler_penalties: over the last {@code repeatLastN} tokens a
 * positive logit is divided by the repetition penalty and a negative one multiplied; frequency and
 * presence penalties subtract {@code count * freq + (count > 0) * presence}.
 */
public final class Sampler {
    private final SamplerParams params;
    private final SamplerChain chain;
    private final SplittableRandom rng;
    private final long seed;
    private final IntFunction<String> tokenText;
    private int[] history = new int[64];
    private int historySize;
    private float mirostatMu;

    public Sampler(SamplerParams params) {
        this(params, null);
    }

    /** @param tokenText a token's text, for DRY's sequence breakers (null: no breakers) */
    public Sampler(SamplerParams params, IntFunction<String> tokenText) {
        this.params = params;
        this.chain = params.chain();
        this.seed = params.seed() < 0 ? new SplittableRandom().nextLong() & 0xFFFFFFFFL : params.seed();
        this.rng = new SplittableRandom(seed);
        this.tokenText = tokenText;
        this.mirostatMu = 2 * chain.mirostatTau();
    }

    public SamplerParams params() { return params; }

    /** The seed in use (drawn at random when the params asked for -1). */
    public long seed() { return seed; }

    /** Records a token (prompt or generated) for the penalties and DRY. */
    public void accept(int token) {
        if (historySize == history.length) history = Arrays.copyOf(history, history.length * 2);
        history[historySize++] = token;
    }

    public void reset() { historySize = 0; }

    /** The tokens still in the running at some stage: {@code ids[0, n)} with their logits. */
    static final class Candidates {
        int[] ids;
        float[] logits;
        int n;
        boolean sorted;

        Candidates(float[] all, int vocab) {
            ids = new int[vocab];
            logits = new float[vocab];
            for (int i = 0; i < vocab; i++) {
                ids[i] = i;
                logits[i] = all[i];
            }
            n = vocab;
        }

        /** Sorted by logit, largest first (ties: lower id first), as llama.cpp's candidates are. */
        void sort() {
            if (sorted) return;
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(ids[a], ids[b]));
            int[] ni = new int[n];
            float[] nl = new float[n];
            for (int i = 0; i < n; i++) {
                ni[i] = ids[order[i]];
                nl[i] = logits[order[i]];
            }
            ids = ni;
            logits = nl;
            sorted = true;
        }

        /** Keeps the k largest (partial selection: no full sort of the vocabulary). */
        void topK(int k) {
            if (k <= 0 || k >= n) return;
            if (!sorted) {
                float[] dense = new float[n];
                System.arraycopy(logits, 0, dense, 0, n);
                int[] top = topIds(dense, n, k);
                int[] ni = new int[k];
                float[] nl = new float[k];
                for (int i = 0; i < k; i++) {
                    ni[i] = ids[top[i]];
                    nl[i] = logits[top[i]];
                }
                ids = ni;
                logits = nl;
                sorted = true;
            }
            n = k;
        }

        /** The softmax of the logits, in candidate order (double precision sums, as llama.cpp's float ones near enough). */
        float[] probs() {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) max = Math.max(max, logits[i]);
            float[] out = new float[n];
            double sum = 0;
            for (int i = 0; i < n; i++) {
                out[i] = (float) Math.exp(logits[i] - max);
                sum += out[i];
            }
            for (int i = 0; i < n; i++) out[i] = (float) (out[i] / sum);
            return out;
        }

        /** Keeps the candidates at positions {@code keep} (ascending). */
        void keep(int[] positions, int count) {
            for (int i = 0; i < count; i++) {
                ids[i] = ids[positions[i]];
                logits[i] = logits[positions[i]];
            }
            n = count;
        }
    }

    /** Picks the next token from {@code logits[0, vocab)}; the array is modified. */
    public int sample(float[] logits, int vocab) {
        for (Map.Entry<Integer, Float> b : chain.logitBias().entrySet()) {
            if (b.getKey() >= 0 && b.getKey() < vocab) logits[b.getKey()] += b.getValue();
        }
        if (params.greedy() && chain.mirostat() == 0 && chain.xtcProbability() <= 0) {
            // The common case, without building candidates: the stages before temperature cannot drop the maximum.
            if (chain.order().contains(Stage.PENALTIES)) applyPenalties(logits, vocab);
            if (chain.order().contains(Stage.DRY)) applyDry(logits, vocab);
            return argMax(logits, vocab);
        }
        Candidates cand = new Candidates(logits, vocab);
        if (chain.mirostat() != 0) {           // llama.cpp: temperature, then Mirostat, none of the other stages
            temperature(cand);
            return chain.mirostat() == 1 ? mirostat1(cand, vocab) : mirostat2(cand);
        }
        for (Stage s : chain.order()) {
            switch (s) {
                case PENALTIES -> penalties(cand);
                case DRY -> dry(cand);
                case TOP_N_SIGMA -> topNSigma(cand, chain.topNSigma());
                case TOP_K -> cand.topK(params.topK());
                case TYPICAL_P -> typical(cand, chain.typicalP());
                case TOP_P -> topP(cand, params.topP());
                case MIN_P -> minP(cand, params.minP());
                case XTC -> xtc(cand, chain.xtcProbability(), chain.xtcThreshold(), rng);
                case TEMPERATURE -> temperature(cand);
            }
        }
        return draw(cand);
    }

    private int draw(Candidates cand) {
        if (cand.n == 1) return cand.ids[0];
        cand.sort();
        float[] probs = cand.probs();
        double r = rng.nextDouble();
        double cum = 0;
        for (int i = 0; i < cand.n; i++) {
            cum += probs[i];
            if (r < cum) return cand.ids[i];
        }
        return cand.ids[cand.n - 1];
    }

    private void temperature(Candidates cand) {
        if (params.temperature() <= 0) {           // greedy: only the maximum stays
            cand.sort();
            cand.n = 1;
            return;
        }
        for (int i = 0; i < cand.n; i++) cand.logits[i] /= params.temperature();
    }

    /** top-p: the smallest prefix (by probability) whose mass reaches p; at least one. */
    static void topP(Candidates cand, float params) {
        if (params >= 1.0f) return;
        cand.sort();
        float[] probs = cand.probs();
        double cum = 0;
        for (int i = 0; i < cand.n; i++) {
            cum += probs[i];
            if (cum >= params) {
                cand.n = i + 1;
                return;
            }
        }
    }

    /** min-p: keep probabilities at least p times the largest (logits within log p of the largest). */
    static void minP(Candidates cand, float params) {
        if (params <= 0) return;
        cand.sort();
        float threshold = cand.logits[0] + (float) Math.log(params);
        int keep = 1;
        while (keep < cand.n && cand.logits[keep] >= threshold) keep++;
        cand.n = keep;
    }

    /**
     * Locally typical sampling: rank by how far each token's surprise is from the entropy, keep the
     * closest whose mass reaches p (llama_sampler_typical, min_keep 1).
     */
    static void typical(Candidates cand, float params) {
        if (params >= 1.0f) return;
        cand.sort();
        float[] probs = cand.probs();
        double entropy = 0;
        for (float q : probs) if (q > 0) entropy -= q * Math.log(q);
        Integer[] order = new Integer[cand.n];
        double[] shifted = new double[cand.n];
        for (int i = 0; i < cand.n; i++) {
            order[i] = i;
            shifted[i] = Math.abs(-Math.log(probs[i]) - entropy);
        }
        Arrays.sort(order, (a, b) -> Double.compare(shifted[a], shifted[b]));
        double cum = 0;
        int last = cand.n;
        for (int i = 0; i < cand.n; i++) {
            cum += probs[order[i]];
            if (cum > params && i + 1 >= 1) {       // llama.cpp: cum_sum > p && i >= min_keep - 1
                last = i + 1;
                break;
            }
        }
        int[] positions = new int[last];
        for (int i = 0; i < last; i++) positions[i] = order[i];
        int[] ids = new int[last];
        float[] logits = new float[last];
        for (int i = 0; i < last; i++) {
            ids[i] = cand.ids[positions[i]];
            logits[i] = cand.logits[positions[i]];
        }
        cand.ids = ids;
        cand.logits = logits;
        cand.n = last;
        cand.sorted = false;
    }

    /** top-n-sigma: keep the logits within n standard deviations of the largest (llama_sampler_top_n_sigma). */
    static void topNSigma(Candidates cand, float nSigma) {
        if (nSigma <= 0) return;
        float max = Float.NEGATIVE_INFINITY;
        double sum = 0;
        int finite = 0;
        for (int i = 0; i < cand.n; i++) {
            if (cand.logits[i] == Float.NEGATIVE_INFINITY) continue;
            max = Math.max(max, cand.logits[i]);
            sum += cand.logits[i];
            finite++;
        }
        if (finite == 0) return;
        double mean = sum / finite, var = 0;
        for (int i = 0; i < cand.n; i++) if (cand.logits[i] != Float.NEGATIVE_INFINITY) var += (cand.logits[i] - mean) * (cand.logits[i] - mean);
        double std = Math.sqrt(var / finite);
        double threshold = max - nSigma * std;
        int[] keep = new int[cand.n];
        int k = 0;
        for (int i = 0; i < cand.n; i++) if (cand.logits[i] >= threshold) keep[k++] = i;
        cand.keep(keep, k);
    }

    /**
     * XTC ("exclude top choices"): with the given probability, when at least two tokens are at least
     * {@code threshold} probable, removes all of them but the least probable (llama_sampler_xtc, min_keep 1).
     */
    static void xtc(Candidates cand, float probability, float threshold, SplittableRandom rng) {
        if (probability <= 0 || threshold > 0.5f || cand.n < 2) return;
        if (rng.nextDouble() > probability) return;
        cand.sort();
        float[] probs = cand.probs();
        int lastAbove = -1;
        for (int i = 0; i < cand.n; i++) if (probs[i] >= threshold) lastAbove = i;
        if (lastAbove < 1) return;                  // fewer than two tokens above the threshold
        int keep = cand.n - lastAbove;
        System.arraycopy(cand.ids, lastAbove, cand.ids, 0, keep);
        System.arraycopy(cand.logits, lastAbove, cand.logits, 0, keep);
        cand.n = keep;
    }

    private void penalties(Candidates cand) {
        float[] dense = denseLogits(cand);
        applyPenalties(dense, dense.length);
        fromDense(cand, dense);
    }

    private void dry(Candidates cand) {
        if (chain.dryMultiplier() <= 0) return;
        float[] dense = denseLogits(cand);
        applyDry(dense, dense.length);
        fromDense(cand, dense);
    }

    private static float[] denseLogits(Candidates cand) {
        int max = 0;
        for (int i = 0; i < cand.n; i++) max = Math.max(max, cand.ids[i] + 1);
        float[] dense = new float[max];
        Arrays.fill(dense, Float.NaN);
        for (int i = 0; i < cand.n; i++) dense[cand.ids[i]] = cand.logits[i];
        return dense;
    }

    private static void fromDense(Candidates cand, float[] dense) {
        for (int i = 0; i < cand.n; i++) cand.logits[i] = dense[cand.ids[i]];
        cand.sorted = false;
    }

    private void applyPenalties(float[] logits, int vocab) {
        boolean repeat = params.repeatPenalty() != 1.0f;
        boolean freq = params.frequencyPenalty() != 0f || params.presencePenalty() != 0f;
        if ((!repeat && !freq) || historySize == 0 || params.repeatLastN() == 0) return;
        int window = params.repeatLastN() < 0 ? historySize : Math.min(params.repeatLastN(), historySize);
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = historySize - window; i < historySize; i++) counts.merge(history[i], 1, Integer::sum);
        for (var e : counts.entrySet()) {
            int id = e.getKey();
            if (id < 0 || id >= vocab || Float.isNaN(logits[id])) continue;
            if (repeat) logits[id] = logits[id] > 0 ? logits[id] / params.repeatPenalty() : logits[id] * params.repeatPenalty();
            logits[id] -= e.getValue() * params.frequencyPenalty() + params.presencePenalty();
        }
    }

    /**
     * DRY ("don't repeat yourself", llama_sampler_dry): for each earlier place where the text so far
     * ends the same way for at least {@code allowedLength} tokens, the token that followed there is
     * penalized by {@code multiplier * base^(length - allowedLength)} (the longest such repeat counts).
     * A token whose text contains a sequence breaker ends a repeat; the exponent is capped so that the
     * penalty stays finite.
     */
    private void applyDry(float[] logits, int vocab) {
        if (chain.dryMultiplier() <= 0 || historySize < 2) return;
        int window = chain.dryPenaltyLastN() < 0 ? historySize : Math.min(chain.dryPenaltyLastN(), historySize);
        int start = historySize - window;
        int last = historySize - 1;
        Map<Integer, Integer> longest = new HashMap<>();
        for (int i = last - 1; i >= start; i--) {           // the repeat ends at i, the token after it is history[i + 1]
            int len = 0;
            while (i - len >= start && history[i - len] == history[last - len] && !breaker(history[i - len])) len++;
            if (len >= chain.dryAllowedLength() && len > 0) longest.merge(history[i + 1], len, Math::max);
        }
        int maxExponent = (int) Math.floor(Math.log(Float.MAX_VALUE / Math.max(1e-9f, chain.dryMultiplier())) / Math.log(Math.max(1.0001, chain.dryBase())));
        for (var e : longest.entrySet()) {
            int id = e.getKey();
            if (id < 0 || id >= vocab || Float.isNaN(logits[id]) || breaker(id)) continue;
            int exponent = Math.min(e.getValue() - chain.dryAllowedLength(), maxExponent);
            logits[id] -= (float) (chain.dryMultiplier() * Math.pow(chain.dryBase(), exponent));
        }
    }

    private boolean breaker(int token) {
        if (tokenText == null || chain.drySequenceBreakers().isEmpty()) return false;
        String text = tokenText.apply(token);
        for (String b : chain.drySequenceBreakers()) if (!b.isEmpty() && text.contains(b)) return true;
        return false;
    }

    /** Mirostat 1.0 (llama_sampler_mirostat, m = 100): a top-k chosen to aim at the target surprise, then the rate update. */
    private int mirostat1(Candidates cand, int vocab) {
        cand.sort();
        float[] probs = cand.probs();
        int m = Math.min(100, cand.n - 1);
        double sumTiBi = 0, sumTi2 = 0;
        for (int i = 0; i < m; i++) {
            double ti = Math.log((i + 2) / (double) (i + 1));
            double bi = Math.log(probs[i] / (double) probs[i + 1]);
            sumTiBi += ti * bi;
            sumTi2 += ti * ti;
        }
        double sHat = sumTi2 > 0 ? sumTiBi / sumTi2 : 1;
        double epsilonHat = sHat - 1;
        double k = Math.pow(epsilonHat * Math.pow(2, mirostatMu) / (1 - Math.pow(vocab, -epsilonHat)), 1 / sHat);
        int keep = (int) Math.max(1, Math.min(cand.n, Double.isFinite(k) ? Math.round(k) : cand.n));
        cand.n = keep;
        int token = draw(cand);
        updateMu(cand, token);
        return token;
    }

    /** Mirostat 2.0: drop tokens more surprising than mu bits, draw, update mu. */
    private int mirostat2(Candidates cand) {
        cand.sort();
        float[] probs = cand.probs();
        int keep = 0;
        while (keep < cand.n && -Math.log(probs[keep]) / Math.log(2) <= mirostatMu) keep++;
        cand.n = Math.max(1, keep);
        int token = draw(cand);
        updateMu(cand, token);
        return token;
    }

    private void updateMu(Candidates cand, int token) {
        float[] probs = cand.probs();
        for (int i = 0; i < cand.n; i++) {
            if (cand.ids[i] == token) {
                double surprise = -Math.log(probs[i]) / Math.log(2);
                mirostatMu -= (float) (chain.mirostatEta() * (surprise - chain.mirostatTau()));
                return;
            }
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
}
