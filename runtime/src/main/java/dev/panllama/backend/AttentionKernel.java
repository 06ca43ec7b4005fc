package dev.panllama.backend;

import dev.panllama.kv.KvCache;
import dev.panllama.tensor.codec.BlockCodec;
import dev.panllama.tensor.GgmlType;

/**
 * Causal multi-head attention with grouped-query heads over a {@link KvCache}, for a batch of
 * {@code tokens} consecutive positions starting at {@code pos0} whose keys and values are already in
 * the cache. Token t attends to positions [0, pos0 + t].
 */
public final class AttentionKernel {
    private AttentionKernel() {}

    /**
     * @param q     queries, {@code [tokens][nHead][headDimK]}
     * @param out   results, {@code [tokens][nHead][headDimV]}
     * @param scale the factor applied to q·k (1/sqrt(headDimK) for llama)
     */
    public record Job(float[] q, float[] out, KvCache cache, int layer, int pos0, int tokens,
                      int nHead, int nHeadKv, int headDimK, int headDimV, float scale) {
        public int groupSize() { return nHead / nHeadKv; }
    }

    /**
     * The reference: scores in float, max-subtracted softmax, probabilities times V in float. As in
     * llama.cpp, the query is first rounded to the key cache's type (ggml converts the query to the K
     * type's dot-product type, F16 for an F16 cache) so both see the same keys and queries.
     */
    public static void reference(Job j) {
        KvCache c = j.cache();
        int kvLen = j.pos0() + j.tokens();
        float[] keys = new float[c.keyRowElements()];
        float[] values = new float[c.valueRowElements()];
        float[] scores = new float[kvLen];
        float[] qh = new float[j.headDimK()];
        BlockCodec kc = c.keyType().codec();
        BlockCodec vc = c.valueType().codec();
        for (int t = 0; t < j.tokens(); t++) {
            int n = j.pos0() + t + 1;
            for (int h = 0; h < j.nHead(); h++) {
                int kvh = h / j.groupSize();
                int qOff = (t * j.nHead() + h) * j.headDimK();
                roundToKeyType(j.q(), qOff, qh, 0, qh.length, c.keyType());
                float max = Float.NEGATIVE_INFINITY;
                for (int p = 0; p < n; p++) {
                    kc.dequantize(c.keyRow(j.layer(), p), 0, keys, 0, keys.length);
                    float s = 0;
                    int kOff = kvh * j.headDimK();
                    for (int i = 0; i < j.headDimK(); i++) s += qh[i] * keys[kOff + i];
                    s *= j.scale();
                    scores[p] = s;
                    if (s > max) max = s;
                }
                float sum = 0;
                for (int p = 0; p < n; p++) {
                    float e = (float) Math.exp(scores[p] - max);
                    scores[p] = e;
                    sum += e;
                }
                int oOff = (t * j.nHead() + h) * j.headDimV();
                java.util.Arrays.fill(j.out(), oOff, oOff + j.headDimV(), 0f);
                for (int p = 0; p < n; p++) {
                    vc.dequantize(c.valueRow(j.layer(), p), 0, values, 0, values.length);
                    float w = scores[p] / sum;
                    int vOff = kvh * j.headDimV();
                    for (int i = 0; i < j.headDimV(); i++) j.out()[oOff + i] += w * values[vOff + i];
                }
            }
        }
    }

    /**
     * Copies {@code src[off, off+n)} to {@code dst[dOff, dOff+n)} rounded to what a dot product with the
     * key cache's rows sees: ggml converts the query to the cache's float type first (F16, BF16).
     */
    public static void roundToKeyType(float[] src, int off, float[] dst, int dOff, int n, GgmlType keyType) {
        for (int i = 0; i < n; i++) {
            float x = src[off + i];
            dst[dOff + i] = switch (keyType) {
                case F16 -> Float.float16ToFloat(Float.floatToFloat16(x));
                case BF16 -> dev.panllama.tensor.FloatCodecs.bf16ToFloat(dev.panllama.tensor.FloatCodecs.floatToBf16(x));
                default -> x;
            };
        }
    }
}
