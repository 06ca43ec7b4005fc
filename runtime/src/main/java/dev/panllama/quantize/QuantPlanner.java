package dev.panllama.quantize;

import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.GgmlType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Decides each tensor's output type the way llama-quantize does (src/llama-quant.cpp:
 * tensor_allows_quantization, llama_tensor_get_type, tensor_type_fallback), plus ik_llama.cpp's
 * --custom-q rules and panllama's {@link MoeMixRules}.
 *
 * <p>Order matters: llama.cpp's loader keeps tensors sorted by layer (tensors outside a block
 * first), then by name, and writes them in that order; its mix rules number attn_v and ffn_down in
 * that order. The plan uses the same order, so the output's tensor order and every per-layer choice
 * match llama-quantize's.
 */
public final class QuantPlanner {
    /**
     * Name fragments of tensors llama.cpp never quantizes, with the reason
     * (tensor_allows_quantization): small or precision-critical tensors.
     */
    private static final String[][] NEVER_QUANTIZED = {
            {"_norm.weight", "norm"},
            {"ffn_gate_inp.weight", "expert router"},
            {"ffn_gate_tid2eid.weight", "expert routing table"},
            {"altup", "tiny altup matrix"},
            {"laurel", "tiny laurel matrix"},
            {"per_layer_model_proj", "per-layer projection"},
            {"ssm_conv1d", "conv1d weights"},
            {"shortconv.conv.weight", "conv weights"},
            {"indexer.k_proj.weight", "indexer projection"},
            {"indexer.q_proj.weight", "indexer projection"},
            {"attn_rel_b.weight", "relative position bias"},
            {".position_embd", "positional embeddings"},
            {"sam.pos_embd", "positional embeddings"},
            {"sam.neck.", "vision neck"},
            {"sam.net_", "vision net"},
            {".rel_pos", "relative positions"},
            {".patch_embd", "patch embeddings"},
            {".patch_merger", "patch merger"},
            {"a.rvq.codebook", "audio codebook"},
            {"mm.a.code_embd", "audio codebook"},
    };

    /** Whole names llama.cpp never quantizes: positional and token-type embeddings, RWKV's small matrices. */
    private static final Set<String> NEVER_QUANTIZED_NAMES = Set.of(
            "position_embd.weight", "token_types.weight");

    /** RWKV's small 2-D weights, matched as name fragments like the rest. */
    private static final List<String> RWKV_SMALL = List.of(
            "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
            "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
            "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
            "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight");

    private QuantPlanner() {}

    /** llama.cpp's tensor order: tensors outside blocks first, then by layer, each group by name. */
    public static final Comparator<String> LLAMA_ORDER =
            Comparator.comparingInt(TensorRole::layerOf).thenComparing(Comparator.naturalOrder());

    /** The plan for a model file. */
    public static QuantPlan plan(MappedGguf model, QuantizeOptions options) {
        List<TensorSpec> specs = model.tensors().stream().map(t -> new TensorSpec(t.name(), t.type(), t.shape())).toList();
        return plan(specs, ModelFacts.of(model.metadata()), options);
    }

    public static QuantPlan plan(List<TensorSpec> tensors, ModelFacts model, QuantizeOptions options) {
        List<TensorSpec> ordered = new ArrayList<>(tensors);
        ordered.sort(Comparator.comparing(TensorSpec::name, LLAMA_ORDER));

        boolean tied = ordered.stream().noneMatch(t -> TensorRole.of(t.name()) == TensorRole.OUTPUT);
        int attnV = (int) ordered.stream().filter(t -> TensorRole.of(t.name()).isAttnVLike()).count();
        QuantMix mix = options.mix();
        LlamaMixRules llama = new LlamaMixRules(mix, model, options.imatrix() != null, tied, options.outputType(), attnV);
        MoeMixRules moe = new MoeMixRules(mix, model);
        boolean moeRules = moe.applies() && !options.llamaMixOnly();

        List<TensorPlan> plans = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (TensorSpec t : ordered) {
            String name = t.name();
            TensorRole role = TensorRole.of(name);
            String notQuantized = whyNotQuantized(t);
            if (notQuantized != null) {
                plans.add(new TensorPlan(name, t.shape(), t.type(), t.type(), notQuantized, null));
                continue;
            }
            GgmlType to;
            String reason;
            if (options.tokenEmbeddingType() != null && role == TensorRole.TOKEN_EMBD) {
                to = options.tokenEmbeddingType();
                reason = "--token-embedding-type";
            } else if (options.outputType() != null && role == TensorRole.OUTPUT) {
                to = options.outputType();
                reason = "--output-tensor-type";
            } else {
                LlamaMixRules.Choice choice = new LlamaMixRules.Choice(mix.defaultType(), options.pure() ? "--pure" : "mix type");
                if (mix.isQuantized() && !options.pure()) {
                    choice = llama.choose(name, role, t.shape()[0]);
                    if (moeRules) choice = moe.adjust(name, role, choice);
                }
                to = choice.type();
                reason = choice.reason();
                Optional<CustomRules.Rule> rule = options.customRules().match(name);
                if (rule.isPresent()) {
                    to = rule.get().type();
                    reason = "--custom-q " + rule.get() + " (the mix: " + choice.type().ggmlName() + ")";
                }
            }
            GgmlType plain = plainOf(to);
            if (plain != to && (role == TensorRole.TOKEN_EMBD || (t.shape().length > 1 ? t.shape()[1] : 1) % to.interleavedRows() != 0)) {
                // As ik_llama.cpp: token embeddings are looked up row by row, and a group needs whole rows.
                reason += "; " + (role == TensorRole.TOKEN_EMBD ? "token embeddings" : "rows not whole groups of " + to.interleavedRows())
                        + " cannot be row-interleaved -> " + plain.ggmlName();
                to = plain;
            }
            GgmlType fitted = fallback(to, t.shape()[0]);
            if (fitted != to) {
                String why = String.format(Locale.ROOT, "rows of %d are not whole %s blocks -> %s", t.shape()[0], to.ggmlName(), fitted.ggmlName());
                warnings.add(name + ": " + why);
                reason += "; " + why;
                to = fitted;
            }
            plans.add(new TensorPlan(name, t.shape(), t.type(), to, reason, importanceFor(t, to, options.imatrix(), warnings)));
        }
        return new QuantPlan(options, model, plans, warnings);
    }

    /** Why llama.cpp would leave the tensor as it is, or null when it is quantizable. */
    static String whyNotQuantized(TensorSpec t) {
        String name = t.name();
        if (t.effectiveDims() < 2) return "1-D, kept";
        if (!name.endsWith("weight")) return "not a weight, kept";
        for (String[] never : NEVER_QUANTIZED) {
            if (name.contains(never[0])) return never[1] + ", kept";
        }
        if (NEVER_QUANTIZED_NAMES.contains(name)) return "embeddings llama.cpp keeps, kept";
        for (String small : RWKV_SMALL) {
            if (name.contains(small)) return "small RWKV matrix, kept";
        }
        return null;
    }

    /** The plain type a row-interleaved type repacks (ik_llama.cpp's interleaved_properties), else the type itself. */
    static GgmlType plainOf(GgmlType type) {
        return switch (type) {
            case IQ2_K_R4 -> GgmlType.IQ2_K;
            case IQ3_K_R4 -> GgmlType.IQ3_K;
            case IQ4_K_R4 -> GgmlType.IQ4_K;
            case Q4_0_R8 -> GgmlType.Q4_0;
            case Q8_0_R8 -> GgmlType.Q8_0;
            default -> type;
        };
    }

    /**
     * llama.cpp's tensor_type_fallback: a row that is not a whole number of the type's blocks takes a
     * type with 32-element blocks of similar size, or F16 when even those do not fit.
     */
    static GgmlType fallback(GgmlType type, long ne0) {
        if (ne0 % type.blockSize() == 0) return type;
        GgmlType alternative = switch (type) {
            case IQ4_XS -> GgmlType.IQ4_NL;
            case Q2_K, Q3_K -> GgmlType.Q4_0;
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> GgmlType.F16;
        };
        return ne0 % alternative.blockSize() == 0 ? alternative : GgmlType.F16;
    }

    /**
     * The imatrix entry for a tensor being converted to a type that uses one. As in llama.cpp, a
     * tensor without an entry is quantized without (with a warning), and an entry of the wrong size
     * is an error except for token_embd (whose imatrix entry is routinely absent or odd).
     */
    private static float[] importanceFor(TensorSpec t, GgmlType to, ImportanceMatrix imatrix, List<String> warnings) {
        if (imatrix == null || t.type() == to || !to.hasCodec() || !to.codec().usesImportance()) return null;
        Optional<float[]> entry = imatrix.forTensor(t.name());
        if (entry.isEmpty()) {
            warnings.add(t.name() + ": no imatrix entry, quantized without importance");
            return null;
        }
        long[] s = t.shape();
        long expected = s[0] * (s.length > 2 ? s[2] : 1);
        if (entry.get().length != expected) {
            String msg = String.format(Locale.ROOT, "%s: the imatrix has %d values, the tensor needs %d (%d columns x %d experts)",
                    t.name(), entry.get().length, expected, s[0], expected / s[0]);
            if (TensorRole.of(t.name()) == TensorRole.TOKEN_EMBD) {
                warnings.add(msg + "; quantized without importance");
                return null;
            }
            throw new IllegalArgumentException(msg);
        }
        return entry.get();
    }
}
