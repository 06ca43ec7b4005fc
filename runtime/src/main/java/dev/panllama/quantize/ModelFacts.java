package dev.panllama.quantize;

import dev.panllama.gguf.GgufArray;
import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufMetadata;

/**
 * The few hyper-parameters llama.cpp's mix rules look at, read from GGUF metadata.
 *
 * @param arch     {@code general.architecture}
 * @param layers   {@code ARCH.block_count} (llama.cpp's n_layer_all)
 * @param experts  {@code ARCH.expert_count}, 0 for a dense model
 * @param heads    {@code ARCH.attention.head_count} of layer 0
 * @param headsKv  {@code ARCH.attention.head_count_kv} of layer 0 (defaults to heads)
 */
public record ModelFacts(String arch, int layers, int experts, int heads, int headsKv) {

    public static ModelFacts of(GgufMetadata md) {
        String arch = md.findString("general.architecture")
                .orElseThrow(() -> new IllegalArgumentException("the model has no general.architecture key"));
        String p = arch + ".";
        int layers = md.findInt(p + "block_count")
                .orElseThrow(() -> new IllegalArgumentException("the model has no " + p + "block_count key"));
        if (layers <= 0) throw new IllegalArgumentException(p + "block_count must be positive, not " + layers);
        int experts = md.getInt(p + "expert_count", 0);
        int heads = firstLayer(md, p + "attention.head_count", 0);
        int headsKv = firstLayer(md, p + "attention.head_count_kv", heads);
        return new ModelFacts(arch, layers, experts, heads, headsKv);
    }

    /** A per-layer key may be a scalar or an array (one value per layer); llama.cpp's mixes use layer 0. */
    private static int firstLayer(GgufMetadata md, String key, int fallback) {
        GgufEntry e = md.entry(key).orElse(null);
        if (e == null) return fallback;
        if (e.value() instanceof GgufArray a) {
            int[] v = a.toIntArray();
            return v.length > 0 ? v[0] : fallback;
        }
        return md.getInt(key);
    }

    /** Whether the model routes tokens through experts (llama.cpp: n_expert > 1). */
    public boolean isMoe() {
        return experts > 1;
    }

    /** Query heads per KV head (llama.cpp's n_gqa(); 0 when there are no KV heads). */
    public int gqa() {
        return headsKv == 0 ? 0 : heads / headsKv;
    }

    /** llama.cpp's LLM_TYPE_70B, the one model type its mixes single out: a llama with 80 layers and GQA. */
    public boolean isLlama70B() {
        return arch.equals("llama") && layers == 80 && heads != headsKv;
    }

    public boolean isFalcon() {
        return arch.equals("falcon");
    }
}
