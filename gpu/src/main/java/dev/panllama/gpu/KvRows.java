package dev.panllama.gpu;

/**
 * Which KV-cache rows the device copy of one cache lacks. The host cache is the truth: the forward pass
 * stores a micro-batch's keys and values there and then calls attention. Per layer, rows
 * {@code [0, valid)} on the device equal the host's; an attention call over positions
 * {@code [pos0, pos0 + tokens)} needs rows {@code [0, pos0 + tokens)}, so it uploads
 * {@code [min(valid, pos0), pos0 + tokens)}: the batch's new rows, plus any gap the device never saw (a
 * cache filled while this layer ran elsewhere). Starting below {@code valid} (a session that rewinds
 * and re-evaluates) re-uploads what the host overwrote. Afterwards valid is {@code pos0 + tokens}: rows
 * past it may be stale and are uploaded again before any later call reads them.
 *
 * <p>What this cannot see is the host rewriting rows below {@code valid} with no attention call here,
 * which would take a layer's attention running on two devices: it runs where the layer's attn_k is.
 */
final class KvRows {
    /** Rows {@code [from, to)} to copy to the device. */
    record Range(int from, int to) {
        int count() { return to - from; }
    }

    private final int contextLength;
    private final int[] valid;

    KvRows(int layers, int contextLength) {
        this.contextLength = contextLength;
        this.valid = new int[layers];
    }

    /** The rows to upload before attention over {@code [pos0, pos0 + tokens)} of {@code layer}, and records them as valid. */
    Range beforeAttention(int layer, int pos0, int tokens) {
        if (pos0 < 0 || tokens <= 0 || pos0 + tokens > contextLength) {
            throw new IllegalArgumentException("positions [" + pos0 + ", " + (pos0 + tokens) + ") outside a context of " + contextLength);
        }
        int to = pos0 + tokens;
        Range r = new Range(Math.min(valid[layer], pos0), to);
        valid[layer] = to;
        return r;
    }

    /**
     * Before the device itself stores rows {@code [pos0, pos0 + tokens)} of {@code layer} (no host copy of
     * them exists): the host rows to upload first, the gap {@code [valid, pos0)} the device never saw
     * (empty normally); afterwards the device's rows up to {@code pos0 + tokens} are the cache's.
     */
    Range beforeDeviceStore(int layer, int pos0, int tokens) {
        if (pos0 < 0 || tokens <= 0 || pos0 + tokens > contextLength) {
            throw new IllegalArgumentException("positions [" + pos0 + ", " + (pos0 + tokens) + ") outside a context of " + contextLength);
        }
        Range gap = new Range(Math.min(valid[layer], pos0), pos0);
        valid[layer] = pos0 + tokens;
        return gap;
    }

    /** Rows of {@code layer} that equal the host's. */
    int valid(int layer) {
        return valid[layer];
    }
}
