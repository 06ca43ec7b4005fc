package dev.panllama.quantize;

import dev.panllama.model.synth.SyntheticPreset;
import dev.panllama.model.synth.SyntheticShape;
import dev.panllama.tensor.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The planner's rules other than the mixes themselves (those are in {@link MixChoicesTest}). */
class QuantPlannerTest {
    private static final SyntheticShape TINY = ModelLayouts.preset(SyntheticPreset.TINY, false).withBlockCount(8);
    private static final ModelFacts FACTS = ModelLayouts.facts("llama", TINY);

    private static QuantPlan plan(List<TensorSpec> tensors, QuantizeOptions o) {
        return QuantPlanner.plan(tensors, FACTS, o);
    }

    private static List<TensorSpec> tiny(GgmlType type) {
        return ModelLayouts.llama(TINY, 512, type);
    }

    private static QuantizeOptions options(QuantMix mix, boolean pure, String... rules) {
        return new QuantizeOptions(mix, pure, null, null, CustomRules.parse(List.of(rules)), false, false, null);
    }

    @Test
    void tensorsComeInLlamaCppsOrder() {
        List<String> names = plan(tiny(GgmlType.F16), QuantizeOptions.of(QuantMix.Q8_0)).tensors().stream().map(TensorPlan::name).toList();
        assertThat(names.subList(0, 4)).containsExactly("output.weight", "output_norm.weight", "token_embd.weight", "blk.0.attn_k.weight");
        // blk.2 before blk.10 (by layer number, not by name)
        List<TensorSpec> many = ModelLayouts.llama(TINY.withBlockCount(12), 512, GgmlType.F16);
        List<String> order = QuantPlanner.plan(many, ModelLayouts.facts("llama", TINY.withBlockCount(12)), QuantizeOptions.of(QuantMix.Q8_0))
                .tensors().stream().map(TensorPlan::name).toList();
        assertThat(order.indexOf("blk.2.attn_k.weight")).isLessThan(order.indexOf("blk.10.attn_k.weight"));
    }

    @Test
    void normsRoutersAndOneDimensionalTensorsAreKept() {
        QuantPlan p = plan(tiny(GgmlType.F32), options(QuantMix.Q4_K_M, false, ".*=q8_0"));
        assertThat(p.tensor("blk.0.attn_norm.weight").to()).isEqualTo(GgmlType.F32);
        assertThat(p.tensor("blk.0.attn_norm.weight").reason()).isEqualTo("1-D, kept");
        List<TensorSpec> moe = ModelLayouts.qwen3moe(ModelLayouts.preset(SyntheticPreset.TINY, true), 512, GgmlType.F32);
        QuantPlan m = QuantPlanner.plan(moe, ModelLayouts.facts("qwen3moe", ModelLayouts.preset(SyntheticPreset.TINY, true)),
                options(QuantMix.Q4_K_M, false));
        assertThat(m.tensor("blk.0.ffn_gate_inp.weight").to()).isEqualTo(GgmlType.F32);
        assertThat(m.tensor("blk.0.ffn_gate_inp.weight").reason()).isEqualTo("expert router, kept");
        // A [n, 1] matrix is one-dimensional to ggml.
        assertThat(QuantPlanner.whyNotQuantized(new TensorSpec("x.weight", GgmlType.F32, new long[]{256, 1}))).isEqualTo("1-D, kept");
        assertThat(QuantPlanner.whyNotQuantized(new TensorSpec("blk.0.attn_q.bias", GgmlType.F32, new long[]{256, 4}))).isEqualTo("not a weight, kept");
    }

    @Test
    void pureGivesEveryMatrixTheTypeAndF16MixesNeverQuantize() {
        QuantPlan pure = plan(tiny(GgmlType.F32), options(QuantMix.Q4_K_M, true));
        for (TensorPlan t : pure.tensors()) {
            assertThat(t.to()).as(t.name()).isEqualTo(t.shape().length == 1 ? GgmlType.F32 : GgmlType.Q4_K);
        }
        QuantPlan f16 = plan(tiny(GgmlType.F32), QuantizeOptions.of(QuantMix.F16));
        assertThat(f16.tensor("output.weight").to()).isEqualTo(GgmlType.F16);
        assertThat(f16.tensor("blk.0.ffn_down.weight").to()).isEqualTo(GgmlType.F16);
    }

    @Test
    void customRulesFirstMatchWinsAndTheMixStillCounts() {
        QuantPlan p = plan(tiny(GgmlType.F16), options(QuantMix.Q4_K_M, false,
                "blk\\.[0-3]\\.ffn_down=q8_0,ffn_down=iq4_xs", "attn_v=Q5_K"));
        assertThat(p.tensor("blk.0.ffn_down.weight").to()).isEqualTo(GgmlType.Q8_0);
        assertThat(p.tensor("blk.0.ffn_down.weight").reason()).startsWith("--custom-q rule 1 'blk\\.[0-3]\\.ffn_down=q8_0'");
        assertThat(p.tensor("blk.4.ffn_down.weight").to()).isEqualTo(GgmlType.IQ4_XS);
        assertThat(p.tensor("blk.4.attn_v.weight").to()).isEqualTo(GgmlType.Q5_K);
        assertThat(p.tensor("blk.4.attn_q.weight").to()).isEqualTo(GgmlType.Q4_K);
        // The mix still ran underneath: blk.7 (use_more_bits) would have been q6_K.
        assertThat(p.tensor("blk.7.attn_v.weight").reason()).contains("(the mix: q6_K)");
        // Rules apply with --pure too, a search anywhere in the name.
        QuantPlan pure = plan(tiny(GgmlType.F16), options(QuantMix.Q4_0, true, "output=q8_0"));
        assertThat(pure.tensor("output.weight").to()).isEqualTo(GgmlType.Q8_0);
        assertThat(pure.tensor("blk.0.attn_output.weight").to()).isEqualTo(GgmlType.Q8_0);
        assertThat(pure.tensor("token_embd.weight").to()).isEqualTo(GgmlType.Q4_0);
    }

    @Test
    void badCustomRulesAreClearErrors() {
        assertThatThrownBy(() -> CustomRules.parse(List.of("ffn_down"))).hasMessageContaining("'ffn_down' is not REGEX=TYPE");
        assertThatThrownBy(() -> CustomRules.parse(List.of("ffn_down=q9_K"))).hasMessageContaining("unknown type 'q9_K'");
        assertThatThrownBy(() -> CustomRules.parse(List.of("ffn_(down=q4_K"))).hasMessageContaining("bad regular expression");
        assertThatThrownBy(() -> CustomRules.parse(List.of("ffn_down=iq2_xxs"))).hasMessageContaining("cannot quantize to iq2_xxs");
        assertThatThrownBy(() -> CustomRules.parse(List.of("a=q4_0,,b=q4_0"))).hasMessageContaining("empty rule");
    }

    @Test
    void outputAndTokenEmbeddingTypesWinOverEverything() {
        QuantizeOptions o = new QuantizeOptions(QuantMix.Q4_K_M, true, GgmlType.Q8_0, GgmlType.Q6_K,
                CustomRules.parse(List.of("output=q4_0,token_embd=q4_0")), false, false, null);
        QuantPlan p = plan(tiny(GgmlType.F16), o);
        assertThat(p.tensor("output.weight").to()).isEqualTo(GgmlType.Q8_0);
        assertThat(p.tensor("output.weight").reason()).isEqualTo("--output-tensor-type");
        assertThat(p.tensor("token_embd.weight").to()).isEqualTo(GgmlType.Q6_K);
    }

    @Test
    void tiedEmbeddingsFollowTheOutputRules() {
        List<TensorSpec> tied = new ArrayList<>(tiny(GgmlType.F16));
        tied.removeIf(t -> t.name().equals("output.weight"));
        QuantPlan p = plan(tied, QuantizeOptions.of(QuantMix.Q4_K_M));
        assertThat(p.tensor("token_embd.weight").to()).isEqualTo(GgmlType.Q6_K);
        assertThat(p.tensor("token_embd.weight").reason()).contains("tied to the output");
        QuantizeOptions withOutputType = new QuantizeOptions(QuantMix.Q4_K_M, false, GgmlType.Q8_0, null, CustomRules.NONE, false, false, null);
        assertThat(plan(tied, withOutputType).tensor("token_embd.weight").to()).isEqualTo(GgmlType.Q8_0);
    }

    @Test
    void rowsThatAreNotWholeBlocksFallBackLikeLlamaCpp() {
        assertThat(QuantPlanner.fallback(GgmlType.Q4_K, 768)).isEqualTo(GgmlType.Q4_K);
        assertThat(QuantPlanner.fallback(GgmlType.Q4_K, 96)).isEqualTo(GgmlType.Q5_0);
        assertThat(QuantPlanner.fallback(GgmlType.Q5_K, 96)).isEqualTo(GgmlType.Q5_1);
        assertThat(QuantPlanner.fallback(GgmlType.Q6_K, 96)).isEqualTo(GgmlType.Q8_0);
        assertThat(QuantPlanner.fallback(GgmlType.Q2_K, 96)).isEqualTo(GgmlType.Q4_0);
        assertThat(QuantPlanner.fallback(GgmlType.IQ4_XS, 96)).isEqualTo(GgmlType.IQ4_NL);
        assertThat(QuantPlanner.fallback(GgmlType.Q4_K, 100)).isEqualTo(GgmlType.F16);
        List<TensorSpec> odd = List.of(new TensorSpec("blk.0.attn_q.weight", GgmlType.F32, new long[]{96, 64}));
        QuantPlan p = plan(odd, QuantizeOptions.of(QuantMix.Q4_K_M));
        assertThat(p.tensor("blk.0.attn_q.weight").to()).isEqualTo(GgmlType.Q5_0);
        assertThat(p.warnings()).singleElement().asString().contains("rows of 96 are not whole q4_K blocks -> q5_0");
    }

    @Test
    void alreadyQuantizedTensorsAreCopiedOrMarkedForRequantizing() {
        QuantPlan same = plan(tiny(GgmlType.Q4_K), options(QuantMix.Q4_K_M, true));
        assertThat(same.tensor("blk.0.attn_q.weight").isCopy()).isTrue();
        assertThat(same.requantized()).isEmpty();
        QuantPlan mixed = plan(tiny(GgmlType.Q8_0), QuantizeOptions.of(QuantMix.Q4_K_M));
        assertThat(mixed.requantized()).isNotEmpty().allMatch(t -> t.from() == GgmlType.Q8_0);
    }

    @Test
    void imatrixEntriesAreMatchedBySizeAndMissingOnesWarn() {
        float[] columns = new float[256];
        java.util.Arrays.fill(columns, 1f);
        ImportanceMatrix im = ImatrixFiles.inMemory(java.util.Map.of("blk.0.attn_q.weight", columns, "blk.0.ffn_down.weight", columns));
        QuantizeOptions o = new QuantizeOptions(QuantMix.Q4_K_M, false, null, null, CustomRules.NONE, false, false, im);
        List<TensorSpec> two = List.of(new TensorSpec("blk.0.attn_q.weight", GgmlType.F32, new long[]{256, 256}),
                new TensorSpec("blk.0.attn_k.weight", GgmlType.F32, new long[]{256, 128}));
        QuantPlan p = plan(two, o);
        assertThat(p.tensor("blk.0.attn_q.weight").importance()).isSameAs(columns);
        assertThat(p.tensor("blk.0.attn_k.weight").importance()).isNull();
        assertThat(p.warnings()).anyMatch(w -> w.contains("blk.0.attn_k.weight: no imatrix entry"));
        // ffn_down has 768 columns: a 256-value entry is an error, as in llama.cpp.
        List<TensorSpec> down = List.of(new TensorSpec("blk.0.ffn_down.weight", GgmlType.F32, new long[]{768, 256}));
        assertThatThrownBy(() -> plan(down, o)).hasMessageContaining("blk.0.ffn_down.weight: the imatrix has 256 values, the tensor needs 768");
        // Q8_0 takes no importance, so none is attached.
        QuantizeOptions q8 = new QuantizeOptions(QuantMix.Q8_0, false, null, null, CustomRules.NONE, false, false, im);
        assertThat(plan(two, q8).tensor("blk.0.attn_q.weight").importance()).isNull();
    }

    @Test
    void mixNamesAndAliasesParseLikeLlamaQuantize() {
        assertThat(QuantMix.parse("q4_k")).isEqualTo(QuantMix.Q4_K_M);
        assertThat(QuantMix.parse("Q3_K")).isEqualTo(QuantMix.Q3_K_M);
        assertThat(QuantMix.parse("15")).isEqualTo(QuantMix.Q4_K_M);
        assertThat(QuantMix.parse("iq4_xs").fileType()).isEqualTo(30);
        assertThatThrownBy(() -> QuantMix.parse("Q7_K")).hasMessageContaining("unknown quantization type 'Q7_K'").hasMessageContaining("Q4_K_M");
    }
}
