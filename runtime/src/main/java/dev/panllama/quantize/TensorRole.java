package dev.panllama.quantize;

/**
 * What a tensor does, told from its GGUF name the way llama.cpp's quantizer tells it
 * (src/llama-quant.cpp tensor_get_category: substring tests, first match wins, in this order).
 * The categories are deliberately broad: "ffn_down" covers dense, routed-expert (_exps) and
 * shared-expert (_shexp) down projections alike.
 */
public enum TensorRole {
    TOKEN_EMBD, OUTPUT, ATTN_QKV, ATTN_KV_B, ATTN_V, ATTN_K, ATTN_Q, ATTN_OUTPUT, FFN_UP, FFN_GATE, FFN_DOWN, OTHER;

    public static TensorRole of(String name) {
        if (name.equals("output.weight")) return OUTPUT;
        if (name.equals("token_embd.weight") || name.equals("per_layer_token_embd.weight")) return TOKEN_EMBD;
        if (name.contains("attn_qkv.weight")) return ATTN_QKV;
        if (name.contains("attn_kv_b.weight")) return ATTN_KV_B;
        if (name.contains("attn_v.weight")) return ATTN_V;
        if (name.contains("attn_k.weight")) return ATTN_K;
        if (name.contains("attn_q.weight")) return ATTN_Q;
        if (name.contains("attn_output.weight")) return ATTN_OUTPUT;
        if (name.contains("ffn_up")) return FFN_UP;
        if (name.contains("ffn_gate")) return FFN_GATE;
        if (name.contains("ffn_down")) return FFN_DOWN;
        return OTHER;
    }

    /** attn_v and the tensors llama.cpp treats like it (they carry the values): attn_qkv, attn_kv_b. */
    public boolean isAttnVLike() {
        return this == ATTN_V || this == ATTN_QKV || this == ATTN_KV_B;
    }

    /** Whether the name is a merged routed-experts tensor ({@code ffn_*_exps}, one slice per expert). */
    public static boolean isRoutedExperts(String name) {
        return name.contains("_exps.");
    }

    /** Whether the name is a shared expert ({@code ffn_*_shexp}), which every token goes through. */
    public static boolean isSharedExpert(String name) {
        return name.contains("_shexp.");
    }

    /** Any attention projection matrix ({@code attn_*.weight}; norms are never quantized anyway). */
    public static boolean isAttention(String name) {
        return name.contains(".attn_") || name.startsWith("attn_");
    }

    /**
     * The layer of a {@code blk.N.} tensor, or -1: the number llama.cpp's loader orders tensors by and
     * its mixes read with {@code sscanf(name, "blk.%d.")}.
     */
    public static int layerOf(String name) {
        if (!name.startsWith("blk.")) return -1;
        int end = 4;
        while (end < name.length() && Character.isDigit(name.charAt(end))) end++;
        if (end == 4 || end >= name.length() || name.charAt(end) != '.' || end - 4 > 9) return -1;
        return Integer.parseInt(name, 4, end, 10);
    }
}
