package dev.panllama.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The architectures panllama runs, with what distinguishes them (llama.cpp's llama_model_rope_type and
 * graph builders): RoPE mode, q/k/v biases, per-head q/k RMS norms, experts, latent attention.
 */
public enum Architecture {
    LLAMA("llama", false, false, false),
    QWEN2("qwen2", true, true, false),
    QWEN3("qwen3", true, false, true),
    QWEN3MOE("qwen3moe", true, false, true),
    /** DeepSeek-V2/V3: multi-head latent attention and its own MoE routing ({@link Deepseek2Graph}). */
    DEEPSEEK2("deepseek2", false, false, false);

    private final String ggufName;
    private final boolean neoxRope;
    private final boolean qkvBias;
    private final boolean qkNorm;

    Architecture(String ggufName, boolean neoxRope, boolean qkvBias, boolean qkNorm) {
        this.ggufName = ggufName;
        this.neoxRope = neoxRope;
        this.qkvBias = qkvBias;
        this.qkNorm = qkNorm;
    }

    public String ggufName() { return ggufName; }

    /** NeoX RoPE rotates (x[i], x[i + n/2]); the normal mode rotates adjacent pairs. */
    public boolean neoxRope() { return neoxRope; }

    /** Whether attn_q/k/v carry a bias tensor (qwen2). */
    public boolean qkvBias() { return qkvBias; }

    /** Whether q and k are RMS-normed per head before RoPE (qwen3's attn_q_norm / attn_k_norm). */
    public boolean qkNorm() { return qkNorm; }

    /**
     * Whether attention is DeepSeek's multi-head latent attention (low-rank q and kv projections, a latent
     * KV cache): such models run on {@link Deepseek2Graph}, the others on {@link LlamaGraph}.
     */
    public boolean latentAttention() { return this == DEEPSEEK2; }

    public static Architecture byGgufName(String name) {
        for (Architecture a : values()) if (a.ggufName.equals(name)) return a;
        throw new IllegalArgumentException("unsupported architecture '" + name + "' (supported: "
                + Arrays.stream(values()).map(Architecture::ggufName).collect(Collectors.joining(", ")) + ")");
    }
}
