package dev.panllama.model;

/**
 * llama.cpp's tensor names (src/llama-arch.cpp, LLM_TENSOR_NAMES): {@code blk.<layer>.<role>.weight}
 * for a block's tensors, plain names for the rest. Loaders and graph builders name tensors through here.
 */
public final class TensorNames {
    private TensorNames() {}

    public static final String TOKEN_EMBD = "token_embd.weight";
    public static final String OUTPUT_NORM = "output_norm.weight";
    /** The output projection's name, also when the file ties it to token_embd (placement still decides by it). */
    public static final String OUTPUT = "output.weight";
    public static final String ROPE_FREQS = "rope_freqs.weight";

    /** {@code blk.<layer>.<role>.weight}. */
    public static String weight(int layer, String role) {
        return "blk." + layer + "." + role + ".weight";
    }

    /** {@code blk.<layer>.<role>.bias}. */
    public static String bias(int layer, String role) {
        return "blk." + layer + "." + role + ".bias";
    }
}
