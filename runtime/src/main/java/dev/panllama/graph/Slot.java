package dev.panllama.graph;

/**
 * The named buffers a forward pass reuses, one per role, as llama.cpp's graph allocator reuses memory:
 * each {@link Value} lives in one slot of the device that computes it, and a later value of the same
 * role overwrites it. An op whose output takes its input's slot runs in place (RoPE, residual add).
 * The scheduler checks that no value is overwritten while a later op still needs it.
 */
public enum Slot {
    /** The residual stream. */
    RESIDUAL,
    /** Normed input of a block, then scratch of the embedding width. */
    NORMED,
    /** A block's output before the residual add. */
    BLOCK_OUT,
    Q, K, V,
    /** Attention output, before the output projection. */
    ATTN_OUT,
    /** Feed-forward gate and up projections. */
    FFN_GATE, FFN_UP,
    /** Shared experts' output. */
    SHARED_EXPERTS,
    /** Router logits, chosen experts, their weights. */
    ROUTER, EXPERT_IDS, EXPERT_WEIGHTS,
    /** Per (token, expert) pair: gate, up and down projections. */
    EXPERT_GATE, EXPERT_UP, EXPERT_DOWN,
    /** Latent attention: q LoRA, kv latent rows, queries in latent space, per-head latents, and packed parts. */
    QA, KV, QL, LAT, LAT_PART, ROPE_PART, Q_NOPE, Q_ABSORBED,
    /** RoPE's cos/sin table for the batch's positions. */
    ROPE_ANGLES,
    /** Output head: the rows whose logits are wanted, and the logits. */
    TAIL, LOGITS
}
