package dev.panllama.convert;

import java.util.Locale;

/**
 * The Hugging Face model families the converter maps to a llama.cpp architecture, with what changes
 * between them (llama.cpp's convert_hf_to_gguf.py: LlamaModel, Qwen2Model, Qwen3Model, Qwen3MoeModel).
 */
public enum HfArchitecture {
    /** Llama and Mistral: q/k rows permuted from Hugging Face's rotate-half order to llama.cpp's pairs. */
    LLAMA("llama", true),
    QWEN2("qwen2", false),
    QWEN3("qwen3", false),
    QWEN3MOE("qwen3moe", false);

    private final String ggufName;
    private final boolean permuteQk;

    HfArchitecture(String ggufName, boolean permuteQk) {
        this.ggufName = ggufName;
        this.permuteQk = permuteQk;
    }

    public String ggufName() { return ggufName; }

    /** Whether attn_q / attn_k rows (and biases) are permuted per head, as llama.cpp's LlamaModel.permute. */
    public boolean permuteQk() { return permuteQk; }

    /** From config.json's {@code architectures[0]}, else its {@code model_type}; null when neither is known. */
    static HfArchitecture of(String architecture, String modelType) {
        if (architecture != null) {
            switch (architecture) {
                case "LlamaForCausalLM", "MistralForCausalLM": return LLAMA;
                case "Qwen2ForCausalLM": return QWEN2;
                case "Qwen3ForCausalLM": return QWEN3;
                case "Qwen3MoeForCausalLM": return QWEN3MOE;
                default: break;
            }
        }
        if (modelType == null) return null;
        return switch (modelType.toLowerCase(Locale.ROOT)) {
            case "llama", "mistral" -> LLAMA;
            case "qwen2" -> QWEN2;
            case "qwen3" -> QWEN3;
            case "qwen3_moe" -> QWEN3MOE;
            default -> null;
        };
    }
}
