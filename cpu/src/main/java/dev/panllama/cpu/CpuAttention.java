package dev.panllama.cpu;

import dev.panllama.backend.AttentionKernel;
import dev.panllama.kv.KvCache;
import dev.panllama.tensor.GgmlType;

import java.util.Arrays;

/**
 * Attention over the KV cache, parallel over (token, KV head) pairs, and over parts of a group when
 * pairs are fewer than threads. The heads of a GQA group share their KV head, so each key and value row
 * is decoded once for the whole group (or part). The query is rounded to
 * the key cache's dot type first, as {@link AttentionKernel#reference} (and llama.cpp) does.
 */
final class CpuAttention {
    private final WorkerPool pool;
    private final KernelTable table;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        float[] q = new float[0], scores = new float[0], row = new float[0];
    }

    CpuAttention(WorkerPool pool, KernelTable table) {
        this.pool = pool;
        this.table = table;
    }

    void run(AttentionKernel.Job j) {
        int pairs = j.tokens() * j.nHeadKv();
        // Scores and weighted values: about this many multiply-adds (every token sees at most all keys).
        long work = (long) j.tokens() * j.nHead() * (j.pos0() + j.tokens()) * (j.headDimK() + j.headDimV());
        // Few (token, KV head) pairs but large groups (one latent KV head for all of DeepSeek's 128 query
        // heads, one token while generating): split each group so that every thread has work; each part
        // decodes the rows again, which is cheap next to its dot products when parts keep >= 8 heads.
        int threads = pool.threads(j.tokens());
        int parts = Math.clamp(2L * threads / pairs, 1, Math.max(1, j.groupSize() / 8));
        int blocks = (j.tokens() + TOKEN_BLOCK - 1) / TOKEN_BLOCK;
        if (parts == 1 && blocks * j.nHeadKv() >= 4 * threads) {
            // A prompt batch: a work item is a block of tokens of one KV head, so that each key and value
            // row is decoded once for the block rather than once per token.
            pool.parallelFor(j.tokens(), blocks * j.nHeadKv(), work, c -> {
                int t0 = (c / j.nHeadKv()) * TOKEN_BLOCK;
                block(j, t0, Math.min(j.tokens(), t0 + TOKEN_BLOCK), c % j.nHeadKv());
            });
            return;
        }
        int per = (j.groupSize() + parts - 1) / parts;
        pool.parallelFor(j.tokens(), pairs * parts, work, c -> {
            int pair = c / parts, i0 = (c % parts) * per;
            if (i0 < j.groupSize()) pair(j, pair / j.nHeadKv(), pair % j.nHeadKv(), i0, Math.min(j.groupSize(), i0 + per));
        });
    }

    /** Tokens per work item of a prompt batch. */
    private static final int TOKEN_BLOCK = 8;

    /**
     * Tokens [t0, t1) and all query heads of KV head kvh's group. Each (token, head) takes exactly the
     * steps of {@link #pair} in the same order, so results do not depend on the blocking.
     */
    private void block(AttentionKernel.Job j, int t0, int t1, int kvh) {
        KvCache cache = j.cache();
        int g = j.groupSize();
        int first = kvh * g;
        int dk = j.headDimK();
        int dv = j.headDimV();
        int nMax = j.pos0() + t1;          // keys seen by the block's last token
        int qs = (t1 - t0) * g;            // query vectors in the block, (token, head) order
        Scratch s = scratch.get();
        if (s.q.length < qs * dk) s.q = new float[qs * dk];
        if (s.scores.length < qs * nMax) s.scores = new float[Math.max(qs * nMax, 2 * s.scores.length)];
        if (s.row.length < Math.max(dk, dv)) s.row = new float[Math.max(dk, dv)];
        float[] q = s.q, scores = s.scores, row = s.row;
        for (int t = t0; t < t1; t++) {
            for (int i = 0; i < g; i++) {
                AttentionKernel.roundToKeyType(j.q(), (t * j.nHead() + first + i) * dk, q, ((t - t0) * g + i) * dk, dk, cache.keyType());
            }
        }
        WeightKernel kk = table.forType(cache.keyType());
        long kHeadOff = cache.keyType().rowBytes((long) kvh * dk);
        for (int p = 0; p < nMax; p++) {
            kk.dequantize(cache.keys(), cache.keyOffset(j.layer(), p) + kHeadOff, row, 0, dk);
            // Token t sees keys [0, pos0 + t]: the first token that sees key p.
            for (int t = Math.max(t0, p - j.pos0()); t < t1; t++) {
                for (int i = 0; i < g; i++) {
                    int qi = (t - t0) * g + i;
                    scores[qi * nMax + p] = VecMath.dot(q, qi * dk, row, 0, dk) * j.scale();
                }
            }
        }
        float[] out = j.out();
        for (int t = t0; t < t1; t++) {
            int n = j.pos0() + t + 1;
            for (int i = 0; i < g; i++) {
                int qi = (t - t0) * g + i;
                float max = Float.NEGATIVE_INFINITY;
                for (int p = 0; p < n; p++) max = Math.max(max, scores[qi * nMax + p]);
                double sum = VectorOps.expShifted(scores, qi * nMax, n, max);
                float inv = (float) (1.0 / sum);
                for (int p = 0; p < n; p++) scores[qi * nMax + p] *= inv;
                int o = (t * j.nHead() + first + i) * dv;
                Arrays.fill(out, o, o + dv, 0f);
            }
        }
        WeightKernel vk = table.forType(cache.valueType());
        long vHeadOff = cache.valueType().rowBytes((long) kvh * dv);
        for (int p = 0; p < nMax; p++) {
            vk.dequantize(cache.values(), cache.valueOffset(j.layer(), p) + vHeadOff, row, 0, dv);
            for (int t = Math.max(t0, p - j.pos0()); t < t1; t++) {
                for (int i = 0; i < g; i++) {
                    int qi = (t - t0) * g + i;
                    VectorOps.axpy(scores[qi * nMax + p], row, 0, out, (t * j.nHead() + first + i) * dv, dv);
                }
            }
        }
    }

    /** Token t's query heads [i0, i1) of KV head kvh's group. */
    private void pair(AttentionKernel.Job j, int t, int kvh, int i0, int i1) {
        KvCache cache = j.cache();
        int g = i1 - i0;
        int first = kvh * j.groupSize() + i0;
        int dk = j.headDimK();
        int dv = j.headDimV();
        int n = j.pos0() + t + 1;
        Scratch s = scratch.get();
        if (s.q.length < g * dk) s.q = new float[g * dk];
        if (s.scores.length < g * n) s.scores = new float[Math.max(g * n, 2 * s.scores.length)];
        if (s.row.length < Math.max(dk, dv)) s.row = new float[Math.max(dk, dv)];
        float[] q = s.q, scores = s.scores, row = s.row;

        for (int i = 0; i < g; i++) {
            AttentionKernel.roundToKeyType(j.q(), (t * j.nHead() + first + i) * dk, q, i * dk, dk, cache.keyType());
        }
        WeightKernel kk = table.forType(cache.keyType());
        long kHeadOff = cache.keyType().rowBytes((long) kvh * dk);
        for (int p = 0; p < n; p++) {
            kk.dequantize(cache.keys(), cache.keyOffset(j.layer(), p) + kHeadOff, row, 0, dk);
            for (int i = 0; i < g; i++) scores[i * n + p] = VecMath.dot(q, i * dk, row, 0, dk) * j.scale();
        }
        float[] out = j.out();
        for (int i = 0; i < g; i++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int p = 0; p < n; p++) max = Math.max(max, scores[i * n + p]);
            double sum = VectorOps.expShifted(scores, i * n, n, max);
            float inv = (float) (1.0 / sum);
            for (int p = 0; p < n; p++) scores[i * n + p] *= inv;
            int o = (t * j.nHead() + first + i) * dv;
            Arrays.fill(out, o, o + dv, 0f);
        }
        WeightKernel vk = table.forType(cache.valueType());
        long vHeadOff = cache.valueType().rowBytes((long) kvh * dv);
        for (int p = 0; p < n; p++) {
            vk.dequantize(cache.values(), cache.valueOffset(j.layer(), p) + vHeadOff, row, 0, dv);
            for (int i = 0; i < g; i++) {
                VectorOps.axpy(scores[i * n + p], row, 0, out, (t * j.nHead() + first + i) * dv, dv);
            }
        }
    }
}
