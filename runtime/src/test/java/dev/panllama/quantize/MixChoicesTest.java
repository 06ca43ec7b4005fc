package dev.panllama.quantize;

import dev.panllama.model.synth.SyntheticPreset;
import dev.panllama.model.synth.SyntheticShape;
import dev.panllama.tensor.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The per-tensor types of the Q3_K_M, Q4_K_M and Q5_K_M mixes for the synth presets 1b (llama, 16
 * layers, 32 heads / 8 KV heads) and moe (qwen3moe, 16 layers, 64 experts, 32 / 4 heads). The
 * expected types are derived by hand from llama.cpp's src/llama-quant.cpp (llama_tensor_get_type_impl):
 * <ul>
 *   <li>use_more_bits(i, 16) holds for i in {0, 1, 4, 7, 10, 13, 14, 15};</li>
 *   <li>output.weight gets q6_K; token_embd the mix's type;</li>
 *   <li>Q4_K_M / Q5_K_M: attn_v and ffn_down in use_more_bits layers get q6_K;</li>
 *   <li>Q3_K_M: attn_v q5_K in layers 0-1 and q4_K after; attn_output q4_K; ffn_down q5_K in layer 0
 *       (i &lt; 16/16) and q4_K after;</li>
 *   <li>64 experts is not 8, so none of llama.cpp's expert rules fire for the moe preset; ffn_down_exps
 *       follows the dense rules with the layer taken from the name.</li>
 * </ul>
 * panllama's MoE rules ({@link MoeMixRules}) then raise attn_k / attn_v to q8_0, attn_q / attn_output
 * to one step above the mix (at least q5_K), and ffn_down of layers 0-1 to two steps above (at most q6_K).
 */
class MixChoicesTest {
    /** Half a unit of the last printed place, plus llama-bench's own rounding to two decimals first. */
    private static final org.assertj.core.data.Offset<Double> SIZE_AS_PRINTED = org.assertj.core.data.Offset.offset(0.055);
    private static final Set<Integer> MORE_BITS = Set.of(0, 1, 4, 7, 10, 13, 14, 15);
    private static final SyntheticShape B1 = ModelLayouts.preset(SyntheticPreset.B1, false);
    private static final SyntheticShape MOE = ModelLayouts.preset(SyntheticPreset.MOE, true);

    @Test
    void useMoreBitsPicksTheFirstAndLastEighthAndEveryThirdLayer() {
        for (int i = 0; i < 16; i++) assertThat(LlamaMixRules.useMoreBits(i, 16)).as("layer " + i).isEqualTo(MORE_BITS.contains(i));
    }

    @Test
    void q4KMOnTheLlama1bShape() {
        QuantPlan p = plan1b(QuantMix.Q4_K_M);
        expectGlobal(p, "q4_K", "q6_K");
        expect(p, "attn_v", i -> MORE_BITS.contains(i) ? "q6_K" : "q4_K");
        expect(p, "ffn_down", i -> MORE_BITS.contains(i) ? "q6_K" : "q4_K");
        for (String t : List.of("attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up")) expect(p, t, i -> "q4_K");
        // bench-1b Q4_K_M made by llama-quantize is 643.8 MiB (../shared/reference/README.md: llama-bench's
        // size, there to one decimal). One tensor of another type would move it by a megabyte or more.
        assertThat(p.bytesAfter() / 1048576.0).isCloseTo(643.8, SIZE_AS_PRINTED);
    }

    @Test
    void q4_0AndQ8_0OnTheLlama1bShapeHaveLlamaBenchSizes() {
        // llama-bench: bench-1b Q4_0 608.7 MiB (output q6_K, the rest q4_0), Q8_0 1.09 GiB.
        QuantPlan q4 = plan1b(QuantMix.Q4_0);
        expectGlobal(q4, "q4_0", "q6_K");
        assertThat(q4.bytesAfter() / 1048576.0).isCloseTo(608.7, SIZE_AS_PRINTED);
        QuantPlan q8 = plan1b(QuantMix.Q8_0);
        expectGlobal(q8, "q8_0", "q8_0");
        assertThat(q8.bytesAfter() / (double) (1L << 30)).isCloseTo(1.09, org.assertj.core.data.Offset.offset(0.005));
    }

    @Test
    void q3KMOnTheLlama1bShape() {
        QuantPlan p = plan1b(QuantMix.Q3_K_M);
        expectGlobal(p, "q3_K", "q6_K");
        expect(p, "attn_v", i -> i < 2 ? "q5_K" : "q4_K");
        expect(p, "attn_output", i -> "q4_K");
        expect(p, "ffn_down", i -> i < 1 ? "q5_K" : "q4_K");
        for (String t : List.of("attn_q", "attn_k", "ffn_gate", "ffn_up")) expect(p, t, i -> "q3_K");
    }

    @Test
    void q5KMOnTheLlama1bShape() {
        QuantPlan p = plan1b(QuantMix.Q5_K_M);
        expectGlobal(p, "q5_K", "q6_K");
        expect(p, "attn_v", i -> MORE_BITS.contains(i) ? "q6_K" : "q5_K");
        expect(p, "ffn_down", i -> MORE_BITS.contains(i) ? "q6_K" : "q5_K");
        for (String t : List.of("attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up")) expect(p, t, i -> "q5_K");
    }

    @Test
    void denseModelsAreUntouchedByTheMoeRules() {
        for (QuantMix mix : QuantMix.values()) {
            assertThat(types(plan1b(mix, false))).as(mix.name()).isEqualTo(types(plan1b(mix, true)));
        }
    }

    @Test
    void q4KMOnTheMoeShape() {
        QuantPlan llama = planMoe(QuantMix.Q4_K_M, true);
        expectGlobal(llama, "q4_K", "q6_K");
        expect(llama, "attn_v", i -> MORE_BITS.contains(i) ? "q6_K" : "q4_K");
        expect(llama, "ffn_down_exps", i -> MORE_BITS.contains(i) ? "q6_K" : "q4_K");
        for (String t : List.of("attn_q", "attn_k", "attn_output", "ffn_gate_exps", "ffn_up_exps")) expect(llama, t, i -> "q4_K");

        QuantPlan ours = planMoe(QuantMix.Q4_K_M, false);
        expectGlobal(ours, "q4_K", "q6_K");
        expect(ours, "attn_v", i -> "q8_0");
        expect(ours, "attn_k", i -> "q8_0");
        expect(ours, "attn_q", i -> "q5_K");
        expect(ours, "attn_output", i -> "q5_K");
        expect(ours, "ffn_down_exps", i -> MORE_BITS.contains(i) ? "q6_K" : "q4_K");
        for (String t : List.of("ffn_gate_exps", "ffn_up_exps")) expect(ours, t, i -> "q4_K");
        expect(ours, "ffn_gate_inp", i -> "f32");
        expect(ours, "attn_q_norm", i -> "f32");
    }

    @Test
    void q3KMOnTheMoeShape() {
        QuantPlan llama = planMoe(QuantMix.Q3_K_M, true);
        expectGlobal(llama, "q3_K", "q6_K");
        expect(llama, "attn_v", i -> i < 2 ? "q5_K" : "q4_K");
        expect(llama, "attn_output", i -> "q4_K");
        expect(llama, "ffn_down_exps", i -> i < 1 ? "q5_K" : "q4_K");
        for (String t : List.of("attn_q", "attn_k", "ffn_gate_exps", "ffn_up_exps")) expect(llama, t, i -> "q3_K");

        QuantPlan ours = planMoe(QuantMix.Q3_K_M, false);
        expect(ours, "attn_v", i -> "q8_0");
        expect(ours, "attn_k", i -> "q8_0");
        expect(ours, "attn_q", i -> "q5_K");
        expect(ours, "attn_output", i -> "q5_K");
        expect(ours, "ffn_down_exps", i -> i < 2 ? "q5_K" : "q4_K");
        for (String t : List.of("ffn_gate_exps", "ffn_up_exps")) expect(ours, t, i -> "q3_K");
    }

    @Test
    void q5KMOnTheMoeShape() {
        QuantPlan llama = planMoe(QuantMix.Q5_K_M, true);
        expectGlobal(llama, "q5_K", "q6_K");
        expect(llama, "attn_v", i -> MORE_BITS.contains(i) ? "q6_K" : "q5_K");
        expect(llama, "ffn_down_exps", i -> MORE_BITS.contains(i) ? "q6_K" : "q5_K");

        QuantPlan ours = planMoe(QuantMix.Q5_K_M, false);
        expect(ours, "attn_v", i -> "q8_0");
        expect(ours, "attn_k", i -> "q8_0");
        expect(ours, "attn_q", i -> "q6_K");
        expect(ours, "attn_output", i -> "q6_K");
        expect(ours, "ffn_down_exps", i -> MORE_BITS.contains(i) ? "q6_K" : "q5_K");
    }

    @Test
    void theMoeRulesNeverTakeBitsAway() {
        for (QuantMix mix : QuantMix.values()) {
            QuantPlan llama = planMoe(mix, true);
            QuantPlan ours = planMoe(mix, false);
            for (TensorPlan t : ours.tensors()) {
                double before = MoeMixRules.bits(llama.tensor(t.name()).to());
                assertThat(MoeMixRules.bits(t.to())).as(mix + " " + t.name()).isGreaterThanOrEqualTo(before);
            }
            // The attention and early ffn_down bits cost little next to the experts (most at 2-3 bits).
            double growth = (double) ours.bytesAfter() / llama.bytesAfter();
            System.out.printf("MOE-MIX %s: %.2f MiB with panllama's MoE rules, %.2f MiB with llama.cpp's (%+.1f%%)%n",
                    mix, ours.bytesAfter() / 1048576.0, llama.bytesAfter() / 1048576.0, 100 * (growth - 1));
            // ik_llama.cpp's types (ftype > 100) are smaller for their bits, so the same attention bits weigh more.
            double bound = mix.fileType() > 100 ? 1.15 : mix.defaultType().bitsPerWeight(256) < 4 ? 1.08 : 1.04;
            assertThat(growth).as(mix.name()).isLessThan(bound);
        }
    }

    @Test
    void eightExpertModelsGetLlamaCppsOwnExpertRules() {
        // A Mixtral-like llama: 8 experts, so llama.cpp's n_expert == 8 rules apply even with --llama-mix.
        SyntheticShape s = new SyntheticShape(256, 512, 4, 2, 64, 8, 8, 2, 512, 2048, 10000f, 1e-5f);
        List<TensorSpec> tensors = ModelLayouts.qwen3moe(s, 512, GgmlType.F16);
        QuantizeOptions o = new QuantizeOptions(QuantMix.Q4_K_M, false, null, null, CustomRules.NONE, true, false, null);
        QuantPlan p = QuantPlanner.plan(tensors, ModelLayouts.facts("llama", s), o);
        expect(p, "attn_v", i -> "q8_0");
        expect(p, "attn_k", i -> "q8_0");
        expect(p, "attn_output", i -> "q5_K");
    }

    static QuantPlan plan1b(QuantMix mix) {
        return plan1b(mix, false);
    }

    private static QuantPlan plan1b(QuantMix mix, boolean llamaOnly) {
        QuantizeOptions o = new QuantizeOptions(mix, false, null, null, CustomRules.NONE, llamaOnly, false, null);
        return QuantPlanner.plan(ModelLayouts.llama(B1, ModelLayouts.LLAMA2_VOCAB, GgmlType.F16), ModelLayouts.facts("llama", B1), o);
    }

    static QuantPlan planMoe(QuantMix mix, boolean llamaOnly) {
        QuantizeOptions o = new QuantizeOptions(mix, false, null, null, CustomRules.NONE, llamaOnly, false, null);
        return QuantPlanner.plan(ModelLayouts.qwen3moe(MOE, ModelLayouts.LLAMA2_VOCAB, GgmlType.F16), ModelLayouts.facts("qwen3moe", MOE), o);
    }

    private static List<String> types(QuantPlan p) {
        return p.tensors().stream().map(t -> t.name() + "=" + t.to().ggmlName()).toList();
    }

    private static void expectGlobal(QuantPlan p, String tokenEmbd, String output) {
        assertThat(p.tensor("token_embd.weight").to().ggmlName()).as("token_embd").isEqualTo(tokenEmbd);
        assertThat(p.tensor("output.weight").to().ggmlName()).as("output").isEqualTo(output);
        assertThat(p.tensor("output_norm.weight").to()).isEqualTo(GgmlType.F32);
    }

    private static void expect(QuantPlan p, String role, IntFunction<String> typeOfLayer) {
        for (int i = 0; i < p.model().layers(); i++) {
            TensorPlan t = p.tensor("blk." + i + "." + role + ".weight");
            assertThat(t.to().ggmlName()).as(t.name() + " (" + t.reason() + ")").isEqualTo(typeOfLayer.apply(i));
        }
    }
}
