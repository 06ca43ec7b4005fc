package dev.panllama.graph;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** DeepSeek's routing variants, on router logits small enough to work out by hand. */
class ExpertRoutingTest {

    private static float sigmoid(float x) { return (float) (1 / (1 + Math.exp(-x))); }

    private record Routed(int[] chosen, float[] weight) {}

    private static Routed route(ExpertRouting r, float[] logits, float[] bias, int used) {
        int[] chosen = new int[used];
        float[] weight = new float[used];
        r.route(logits, 0, logits.length, bias, used, chosen, weight, 0, new ExpertRouting.Scratch(logits.length, r.groups()));
        return new Routed(chosen, weight);
    }

    @Test
    void theBiasSteersTheChoiceButNotTheWeights() {
        float[] logits = {2.0f, 1.0f, 0.0f, -1.0f};
        float[] bias = {0f, 0f, 0.9f, 0f};                 // lifts expert 2 (0.5 + 0.9) above experts 0 (0.881) and 1 (0.731)
        ExpertRouting r = new ExpertRouting(ExpertRouting.Gating.SIGMOID, false, 1f, 0, 0);
        Routed out = route(r, logits, bias, 2);
        assertThat(out.chosen()).containsExactly(2, 0);
        assertThat(out.weight()[0]).isCloseTo(0.5f, within(1e-6f));    // sigmoid(0), not 0.5 + 0.9
        assertThat(out.weight()[1]).isCloseTo(sigmoid(2f), within(1e-6f));
    }

    @Test
    void weightsAreNormalisedThenScaled() {
        float[] logits = {2.0f, 1.0f, 0.0f, -1.0f};
        ExpertRouting r = new ExpertRouting(ExpertRouting.Gating.SIGMOID, true, 2.5f, 0, 0);
        Routed out = route(r, logits, null, 2);
        float a = sigmoid(2f), b = sigmoid(1f);
        assertThat(out.chosen()).containsExactly(0, 1);
        assertThat(out.weight()[0]).isCloseTo(2.5f * a / (a + b), within(1e-6f));
        assertThat(out.weight()[1]).isCloseTo(2.5f * b / (a + b), within(1e-6f));
    }

    @Test
    void softmaxGatingKeepsTheFullSoftmaxProbabilitiesWithoutNormalisation() {
        float[] logits = {0f, (float) Math.log(3), (float) Math.log(2), 0f};   // probabilities 1/7, 3/7, 2/7, 1/7
        Routed out = route(new ExpertRouting(ExpertRouting.Gating.SOFTMAX, false, 1f, 0, 0), logits, null, 2);
        assertThat(out.chosen()).containsExactly(1, 2);
        assertThat(out.weight()[0]).isCloseTo(3f / 7, within(1e-6f));
        assertThat(out.weight()[1]).isCloseTo(2f / 7, within(1e-6f));

        Routed sw = route(new ExpertRouting(ExpertRouting.Gating.SOFTMAX_WEIGHT, false, 1f, 0, 0), logits, null, 2);
        assertThat(sw.chosen()).containsExactly(1, 2);                     // softmax over the chosen logits only
        assertThat(sw.weight()[0]).isCloseTo(0.6f, within(1e-6f));
        assertThat(sw.weight()[1]).isCloseTo(0.4f, within(1e-6f));
    }

    /**
     * 8 experts in 4 groups of 2, 2 groups used: group scores are the sums of both members. Expert 0 is
     * the single best, but its group (0, 1) sums lowest, so it is not eligible.
     */
    @Test
    void groupLimitedRoutingPicksFromTheBestGroupsOnly() {
        float[] sel = {0.9f, 0.0f, 0.6f, 0.5f, 0.7f, 0.3f, 0.2f, 0.1f};   // group sums 0.9, 1.1, 1.0, 0.3
        ExpertRouting r = new ExpertRouting(ExpertRouting.Gating.SOFTMAX_WEIGHT, false, 1f, 4, 2);
        Routed out = route(r, sel, null, 3);
        assertThat(out.chosen()).containsExactly(4, 2, 3);
        Routed ungrouped = route(new ExpertRouting(ExpertRouting.Gating.SOFTMAX_WEIGHT, false, 1f, 0, 0), sel, null, 3);
        assertThat(ungrouped.chosen()).containsExactly(0, 4, 2);
    }

    @Test
    void inconsistentCountsFailClearly() {
        assertThatThrownBy(() -> new ExpertRouting(ExpertRouting.Gating.SIGMOID, true, 1f, 8, 9)).hasMessageContaining("expert_group_used_count 9");
        ExpertRouting r = new ExpertRouting(ExpertRouting.Gating.SIGMOID, true, 1f, 3, 1);
        assertThatThrownBy(() -> r.validate(8, 2)).hasMessageContaining("not a multiple of expert_group_count 3");
        ExpertRouting g = new ExpertRouting(ExpertRouting.Gating.SIGMOID, true, 1f, 4, 1);
        assertThatThrownBy(() -> g.validate(8, 3)).hasMessageContaining("exceeds the experts of 1 groups");
        assertThatThrownBy(() -> ExpertRouting.Gating.byId(7)).hasMessageContaining("expert_gating_func 7");
        assertThat(ExpertRouting.Gating.byId(0)).isEqualTo(ExpertRouting.Gating.SOFTMAX);
    }
}
