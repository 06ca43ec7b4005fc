package dev.panllama.convert;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hugging Face tensor names to llama.cpp's (gguf-py's tensor_mapping.py for the llama and qwen
 * families), and the tensors a converter drops.
 */
final class HfTensorNames {
    private HfTensorNames() {}

    /**
     * Where a Hugging Face tensor goes.
     *
     * @param name      the GGUF name (of the stacked tensor, for an expert)
     * @param qkHeads   "q" or "k" for the tensors llama's permutation applies to, else null
     * @param expert    the expert index, -1 for an ordinary tensor
     */
    record Target(String name, String qkHeads, int expert) {}

    private static final Pattern LAYER = Pattern.compile("^model\\.layers\\.(\\d+)\\.(.+)$");
    private static final Pattern EXPERT = Pattern.compile("^mlp\\.experts\\.(\\d+)\\.(gate|up|down)_proj\\.weight$");

    /** Suffixes of tensors that carry no weights llama.cpp uses: FP8 activation and KV-cache scales, rotary caches. */
    private static final String[] DROPPED = {".input_scale", ".k_scale", ".v_scale", ".rotary_emb.inv_freq", ".activation_scale"};

    static boolean isScale(String hfName) {
        return hfName.endsWith(".weight_scale_inv") || hfName.endsWith(".weight_scale");
    }

    /** The weight a scale tensor belongs to. */
    static String scaledWeight(String scaleName) {
        return scaleName.endsWith("_scale_inv") ? scaleName.substring(0, scaleName.length() - "_scale_inv".length())
                : scaleName.substring(0, scaleName.length() - "_scale".length());
    }

    static boolean isDropped(String hfName) {
        for (String s : DROPPED) if (hfName.endsWith(s)) return true;
        return false;
    }

    /** The target of {@code hfName}; fails naming the tensor when it has no llama.cpp counterpart. */
    static Target map(String hfName, HfArchitecture arch) {
        switch (hfName) {
            case "model.embed_tokens.weight": return new Target("token_embd.weight", null, -1);
            case "lm_head.weight": return new Target("output.weight", null, -1);
            case "model.norm.weight": return new Target("output_norm.weight", null, -1);
            default: break;
        }
        Matcher m = LAYER.matcher(hfName);
        if (m.matches()) {
            String blk = "blk." + m.group(1) + ".";
            String rest = m.group(2);
            Matcher e = EXPERT.matcher(rest);
            if (e.matches() && arch == HfArchitecture.QWEN3MOE) {
                return new Target(blk + "ffn_" + e.group(2) + "_exps.weight", null, Integer.parseInt(e.group(1)));
            }
            String suffix = rest.endsWith(".weight") ? ".weight" : rest.endsWith(".bias") ? ".bias" : null;
            if (suffix != null) {
                String module = rest.substring(0, rest.length() - suffix.length());
                String gguf = switch (module) {
                    case "input_layernorm" -> "attn_norm";
                    case "post_attention_layernorm" -> "ffn_norm";
                    case "self_attn.q_proj" -> "attn_q";
                    case "self_attn.k_proj" -> "attn_k";
                    case "self_attn.v_proj" -> "attn_v";
                    case "self_attn.o_proj" -> "attn_output";
                    case "self_attn.q_norm" -> "attn_q_norm";
                    case "self_attn.k_norm" -> "attn_k_norm";
                    case "mlp.gate_proj" -> "ffn_gate";
                    case "mlp.up_proj" -> "ffn_up";
                    case "mlp.down_proj" -> "ffn_down";
                    case "mlp.gate" -> arch == HfArchitecture.QWEN3MOE ? "ffn_gate_inp" : null;
                    default -> null;
                };
                if (gguf != null) {
                    String heads = !arch.permuteQk() ? null : gguf.equals("attn_q") ? "q" : gguf.equals("attn_k") ? "k" : null;
                    return new Target(blk + gguf + suffix, heads, -1);
                }
            }
        }
        throw new IllegalArgumentException("cannot map tensor '" + hfName + "' to a llama.cpp name for architecture " + arch.ggufName());
    }
}
