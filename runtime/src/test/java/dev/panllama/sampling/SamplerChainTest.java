package dev.panllama.sampling;

import dev.panllama.sampling.SamplerChain.Stage;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Each sampler against llama.cpp's definition (src/llama-sampling.cpp; the cases follow
 * tests/test-sampling.cpp's shape, the expected sets worked out by hand here): candidates given by
 * their probabilities, the ids that remain after one stage.
 */
class SamplerChainTest {
    /** Token i has probability probs[i] (logit ln p). */
    private static Sampler.Candidates candidates(double... probs) {
        float[] logits = new float[probs.length];
        for (int i = 0; i < probs.length; i++) logits[i] = (float) Math.log(probs[i]);
        return new Sampler.Candidates(logits, probs.length);
    }

    private static Set<Integer> ids(Sampler.Candidates c) {
        Set<Integer> out = new HashSet<>();
        for (int i = 0; i < c.n; i++) out.add(c.ids[i]);
        return out;
    }

    @Test
    void topK() {
        var c = candidates(0.1, 0.2, 0.3, 0.4);
        c.topK(1);
        assertThat(ids(c)).containsExactly(3);
        c = candidates(0.1, 0.2, 0.3, 0.4);
        c.topK(3);
        assertThat(ids(c)).containsExactlyInAnyOrder(3, 2, 1);
        c = candidates(0.1, 0.2, 0.3, 0.4);
        c.topK(0);
        assertThat(ids(c)).hasSize(4);
    }

    @Test
    void topPAndMinP() {
        double[][] cases = {{0, 1}, {0.7, 2}, {0.8, 3}, {1, 4}};
        for (double[] k : cases) {
            var c = candidates(0.1, 0.2, 0.3, 0.4);
            Sampler.topP(c, (float) k[0]);
            assertThat(c.n).as("top-p %s", k[0]).isEqualTo((int) k[1]);
        }
        double[][] minP = {{0.76, 1}, {0.74, 2}, {0.5, 3}, {0.24, 4}, {0, 4}};
        for (double[] k : minP) {
            var c = candidates(0.1, 0.2, 0.3, 0.4);
            Sampler.minP(c, (float) k[0]);
            assertThat(c.n).as("min-p %s", k[0]).isEqualTo((int) k[1]);
        }
    }

    @Test
    void typical() {
        var c = candidates(0.97, 0.01, 0.01, 0.01);
        Sampler.typical(c, 0.5f);
        assertThat(ids(c)).containsExactly(0);
        // Entropy 1.33 nats: the 0.2s (surprise 1.61) are closer to it than the 0.4 (0.92); three of them pass 0.5.
        c = candidates(0.4, 0.2, 0.2, 0.2);
        Sampler.typical(c, 0.5f);
        assertThat(ids(c)).containsExactlyInAnyOrder(1, 2, 3);
    }

    @Test
    void xtc() {
        Object[][] cases = {{0.09f, Set.of(3)}, {0.19f, Set.of(2, 3)}, {0.29f, Set.of(1, 2, 3)}, {0.39f, Set.of(0, 1, 2, 3)}, {0.6f, Set.of(0, 1, 2, 3)}};
        for (Object[] k : cases) {
            var c = candidates(0.4, 0.3, 0.2, 0.1);
            Sampler.xtc(c, 1.0f, (float) k[0], new SplittableRandom(1));
            assertThat(ids(c)).as("threshold %s", k[0]).isEqualTo(k[1]);
        }
        var never = candidates(0.4, 0.3, 0.2, 0.1);
        Sampler.xtc(never, 0f, 0.09f, new SplittableRandom(1));
        assertThat(never.n).isEqualTo(4);
    }

    @Test
    void topNSigma() {
        // Logits 1, 2, 3, 4: mean 2.5, standard deviation sqrt(1.25) = 1.118.
        float[][] cases = {{1, 2}, {2, 3}, {3, 4}};
        for (float[] k : cases) {
            var c = new Sampler.Candidates(new float[]{1, 2, 3, 4}, 4);
            Sampler.topNSigma(c, k[0]);
            assertThat(c.n).as("n = %s", k[0]).isEqualTo((int) k[1]);
        }
    }

    private static SamplerParams greedyWith(SamplerChain chain) {
        return SamplerParams.GREEDY.withRepeatPenalty(1.0f).withChain(chain);
    }

    private static SamplerChain chain(float dryMultiplier, int allowed, List<String> breakers, Map<Integer, Float> bias) {
        SamplerChain d = SamplerChain.DEFAULTS;
        return new SamplerChain(d.typicalP(), 0, d.mirostatTau(), d.mirostatEta(), dryMultiplier, 2.0f, allowed, -1, breakers,
                0f, 0.1f, -1f, bias, d.order());
    }

    @Test
    void dryPenalizesWhatWouldRepeatASequence() {
        // History 1 2 3 4 1 2 3: "1 2 3" was followed by 4, a repeat of length 3; with allowed length 2 and base 2
        // the penalty is 1 * 2^(3-2) = 2, on token 4 only.
        int[] history = {1, 2, 3, 4, 1, 2, 3};
        float[] logits = new float[6];
        logits[4] = 1.5f;           // would win without DRY
        Sampler s = new Sampler(greedyWith(chain(1.0f, 2, List.of(), Map.of())));
        for (int t : history) s.accept(t);
        assertThat(s.sample(logits.clone(), 6)).isNotEqualTo(4);
        float[] seen = logits.clone();
        s.sample(seen, 6);
        assertThat(seen[4]).isEqualTo(-0.5f);
        assertThat(seen[1]).isZero();

        Sampler longer = new Sampler(greedyWith(chain(1.0f, 4, List.of(), Map.of())));
        for (int t : history) longer.accept(t);
        assertThat(longer.sample(logits.clone(), 6)).as("allowed length 4: no penalty").isEqualTo(4);

        // Token 2 is a sequence breaker (its text holds ":"): the repeat is only "3", too short.
        Sampler broken = new Sampler(greedyWith(chain(1.0f, 2, List.of(":"), Map.of())), t -> t == 2 ? "a:" : "x" + t);
        for (int t : history) broken.accept(t);
        assertThat(broken.sample(logits.clone(), 6)).isEqualTo(4);
    }

    @Test
    void logitBiasAndOrder() {
        float[] logits = {0, 3, 1};
        Sampler banned = new Sampler(greedyWith(chain(0f, 2, List.of(), Map.of(1, Float.NEGATIVE_INFINITY))));
        assertThat(banned.sample(logits.clone(), 3)).isEqualTo(2);
        Sampler boosted = new Sampler(greedyWith(chain(0f, 2, List.of(), Map.of(0, 5f))));
        assertThat(boosted.sample(logits.clone(), 3)).isZero();
        assertThat(Stage.parse("typ_p")).isEqualTo(Stage.TYPICAL_P);
        assertThat(Stage.parse("Top-K")).isEqualTo(Stage.TOP_K);
        assertThatThrownBy(() -> Stage.parse("nucleus")).hasMessageStartingWith("unknown sampler 'nucleus' (samplers: penalties;dry;top_n_sigma;");
    }

    @Test
    void mirostat2DropsTokensMoreSurprisingThanMu() {
        // Surprises 1, 2, 3, 3 bits; tau 1 starts mu at 2: only tokens 0 and 1 can come.
        SamplerChain d = SamplerChain.DEFAULTS;
        SamplerChain m2 = new SamplerChain(d.typicalP(), 2, 1.0f, 0.1f, 0f, d.dryBase(), 2, -1, List.of(), 0f, 0.1f, -1f, Map.of(), d.order());
        double[] probs = {0.5, 0.25, 0.125, 0.125};
        float[] logits = new float[4];
        for (int i = 0; i < 4; i++) logits[i] = (float) Math.log(probs[i]);
        Set<Integer> drawn = new HashSet<>();
        for (int seed = 0; seed < 50; seed++) {
            Sampler s = new Sampler(SamplerParams.DEFAULTS.withTemperature(1f).withSeed(seed).withChain(m2));
            drawn.add(s.sample(logits.clone(), 4));
        }
        assertThat(drawn).containsExactlyInAnyOrder(0, 1);
        SamplerChain m1 = new SamplerChain(d.typicalP(), 1, 0.01f, 0.1f, 0f, d.dryBase(), 2, -1, List.of(), 0f, 0.1f, -1f, Map.of(), d.order());
        float[] peaked = new float[64];
        Arrays.fill(peaked, -5);
        peaked[7] = 5;
        // A tiny target surprise: Mirostat 1 keeps about one token.
        for (int seed = 0; seed < 20; seed++) {
            assertThat(new Sampler(SamplerParams.DEFAULTS.withTemperature(1f).withSeed(seed).withChain(m1)).sample(peaked.clone(), 64)).isEqualTo(7);
        }
    }

    @Test
    void badSettingsAreRefused() {
        SamplerChain d = SamplerChain.DEFAULTS;
        assertThatThrownBy(() -> new SamplerChain(0f, 0, 5, 0.1f, 0, 1.75f, 2, -1, List.of(), 0, 0.1f, -1, Map.of(), d.order()))
                .hasMessageContaining("typical-p");
        assertThatThrownBy(() -> new SamplerChain(1f, 3, 5, 0.1f, 0, 1.75f, 2, -1, List.of(), 0, 0.1f, -1, Map.of(), d.order()))
                .hasMessageContaining("mirostat must be 0, 1 or 2");
        assertThatThrownBy(() -> new SamplerChain(1f, 0, 5, 0.1f, 0, 1.75f, 2, -1, List.of(), 1.5f, 0.1f, -1, Map.of(), d.order()))
                .hasMessageContaining("XTC");
    }
}
