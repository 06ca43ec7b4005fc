package dev.panllama.model;

import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufWriter;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.graph.ExpertRouting;
import dev.panllama.kv.KvCache;
import dev.panllama.model.synth.SyntheticDeepseek2;
import dev.panllama.model.synth.SyntheticPreset;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import dev.panllama.testing.TestFiles;
import dev.panllama.util.ProgressListener;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * deepseek2 end to end on the scalar reference kernels, without ../shared: the tiny synthetic model
 * (current layout, YaRN, group-limited sigmoid routing, a shared expert) loads with the right
 * configuration, keeps a latent cache, gives the same logits batched and token by token, and gives the
 * same logits as the same weights rewritten in the legacy attn_kv_b layout.
 */
class Deepseek2ModelTest {
    @TempDir
    static Path dir;
    static Path latentFile;

    @BeforeAll
    static void writeTinyModel() throws IOException {
        latentFile = dir.resolve("ds2-tiny-f32.gguf");
        SyntheticDeepseek2.of(SyntheticPreset.TINY, 0, GgmlType.F32, 42).write(latentFile, TestFiles.stories260K(), 2, ProgressListener.NONE);
    }

    @Test
    void configurationComesFromTheMetadata() throws IOException {
        try (Model model = Model.load(latentFile, ModelOptions.DEFAULTS.withThreads(1).withContextLength(16))) {
            Deepseek2Config dc = Deepseek2Config.fromMetadata(model.metadata(), model.config());
            assertThat(dc.latentLayout()).isTrue();
            assertThat(dc.qLoraRank()).isEqualTo(256);
            assertThat(dc.kvLoraRank()).isEqualTo(256);
            assertThat(dc.nopeDim()).isEqualTo(64);
            assertThat(dc.ropeDim()).isEqualTo(32);
            assertThat(dc.vDim()).isEqualTo(64);
            assertThat(dc.leadingDenseBlocks()).isEqualTo(1);
            assertThat(dc.routing()).isEqualTo(new ExpertRouting(ExpertRouting.Gating.SIGMOID, true, 2.5f, 4, 2));
            // YaRN factor 4, yarn_log_multiplier 0.1: mscale = 1 + 0.1 ln 4 in the attention scale, squared;
            // the rope's own YaRN magnitude cancelled by its attention factor.
            float mscale = 1f + 0.1f * (float) Math.log(4);
            assertThat(dc.kqScale()).isCloseTo(mscale * mscale / (float) Math.sqrt(96), within(1e-6f));
            assertThat(dc.ropeAttnFactor() * mscale).isCloseTo(1f, within(1e-6f));
            assertThat(dc.yarnExtFactor()).isEqualTo(1f);
            assertThat(dc.yarnOrigContext()).isEqualTo(512);
            assertThat(model.describeArchitecture()).contains("kv_lora 256", "attn_k_b/attn_v_b", "YaRN from 512");
        }
    }

    @Test
    void theCacheHoldsTheLatentOnlyAndBatchesAgreeWithSingleSteps() throws IOException {
        int[] tokens = {1, 403, 407, 261, 378, 290};
        try (Model model = Model.load(latentFile, ModelOptions.DEFAULTS.withThreads(1).withContextLength(16));
             Session batch = model.newSession(); Session steps = model.newSession()) {
            KvCache cache = batch.cache();
            assertThat(cache.isLatent()).isTrue();
            // 3 layers x 16 positions x (kv_lora 256 + rope 32) F16 values; naive MHA would hold 4 x (96 + 64) per position.
            assertThat(cache.byteSize()).isEqualTo(3L * 16 * 288 * 2);
            float[] all = batch.evaluateAll(tokens);
            int vocab = batch.vocabSize();
            for (int t = 0; t < tokens.length; t++) {
                float[] one = steps.evaluate(tokens[t]);
                for (int v = 0; v < vocab; v++) {
                    assertThat(one[v]).as("token %d logit %d", t, v).isCloseTo(all[t * vocab + v], within(1e-4f));
                }
            }
            double sum = 0, sumSq = 0;
            for (float v : all) {
                assertThat(Float.isFinite(v)).isTrue();
                sum += v;
                sumSq += (double) v * v;
            }
            double std = Math.sqrt(sumSq / all.length - Math.pow(sum / all.length, 2));
            assertThat(std).as("logits of random weights of std 0.02").isBetween(0.05, 3.0);
        }
    }

    @Test
    void theLegacyLayoutGivesTheSameLogits() throws IOException {
        Path legacy = dir.resolve("ds2-tiny-legacy.gguf");
        rewriteAsLegacy(latentFile, legacy);
        int[] tokens = {1, 403, 407, 261, 378};
        float[] a, b;
        try (Model m = Model.load(latentFile, ModelOptions.DEFAULTS.withThreads(1).withContextLength(8)); Session s = m.newSession()) {
            a = s.evaluateAll(tokens);
        }
        try (Model m = Model.load(legacy, ModelOptions.DEFAULTS.withThreads(1).withContextLength(8)); Session s = m.newSession()) {
            assertThat(m.describeArchitecture()).contains("attn_kv_b layout");
            b = s.evaluateAll(tokens);
        }
        // Same F32 weights, same products: only the summation order of the attention differs.
        for (int i = 0; i < a.length; i++) assertThat(b[i]).as("logit %d", i).isCloseTo(a[i], within(1e-4f));
    }

    /** -ctk picks the latent cache's type (-ctv has nothing to apply to); q8_0 rounds it a little. */
    @Test
    void cacheTypeKAppliesToTheLatentCache() throws IOException {
        int[] tokens = {1, 403, 407, 261};
        float[] f16, q8;
        try (Model m = Model.load(latentFile, ModelOptions.DEFAULTS.withThreads(1).withContextLength(8)); Session s = m.newSession()) {
            f16 = s.evaluateAll(tokens);
        }
        ModelOptions o = ModelOptions.DEFAULTS.withThreads(1).withContextLength(8).withCacheTypes(GgmlType.Q8_0, GgmlType.Q4_0);
        try (Model m = Model.load(latentFile, o); Session s = m.newSession()) {
            assertThat(s.cache().keyType()).isEqualTo(GgmlType.Q8_0);
            assertThat(s.cache().byteSize()).isEqualTo(3L * 8 * GgmlType.Q8_0.rowBytes(288));
            q8 = s.evaluateAll(tokens);
        }
        double mean = 0;
        for (int i = 0; i < f16.length; i++) mean += Math.abs(f16[i] - q8[i]);
        assertThat(mean / f16.length).isGreaterThan(0).isLessThan(0.01);
    }

    /**
     * The same model as llama.cpp's older converter wrote it: attn_kv_b {@code [kvLora, H·(nope + v)]}
     * holding each head's key rows (attn_k_b transposed) then its value rows (attn_v_b), one KV head per
     * query head, key_length = nope + rope, value_length = v, no *_mla keys.
     */
    private static void rewriteAsLegacy(Path in, Path out) throws IOException {
        try (MappedGguf g = MappedGguf.open(in)) {
            var md = g.metadata();
            int heads = md.getInt("deepseek2.attention.head_count");
            int kvLora = md.getInt("deepseek2.attention.kv_lora_rank");
            int rope = md.getInt("deepseek2.rope.dimension_count");
            int nope = md.getInt("deepseek2.attention.key_length_mla") - rope;
            int v = md.getInt("deepseek2.attention.value_length_mla");
            GgufWriter w = new GgufWriter();
            for (GgufEntry e : md.entries()) {
                if (!e.key().contains("_mla") && !e.key().endsWith("key_length") && !e.key().endsWith("value_length")
                        && !e.key().endsWith("head_count_kv")) w.copy(e);
            }
            w.putU32("deepseek2.attention.head_count_kv", heads);
            w.putU32("deepseek2.attention.key_length", nope + rope);
            w.putU32("deepseek2.attention.value_length", v);
            for (Tensor t : g.tensors()) {
                String name = t.name();
                if (name.endsWith("attn_v_b.weight")) continue;
                if (!name.endsWith("attn_k_b.weight")) {
                    w.addTensor(name, t.type(), t.shape(), t.data());
                    continue;
                }
                float[] kb = t.toFloatArray();
                float[] vb = g.tensor(name.replace("attn_k_b", "attn_v_b")).toFloatArray();
                w.addTensor(name.replace("attn_k_b", "attn_kv_b"), GgmlType.F32, new long[]{kvLora, (long) heads * (nope + v)}, dst -> {
                    for (int h = 0; h < heads; h++) {
                        for (int j = 0; j < kvLora; j++) {
                            for (int i = 0; i < nope; i++) {
                                long row = (long) h * (nope + v) + i;
                                dst.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, row * kvLora + j, kb[(h * kvLora + j) * nope + i]);
                            }
                            for (int i = 0; i < v; i++) {
                                long row = (long) h * (nope + v) + nope + i;
                                dst.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, row * kvLora + j, vb[(h * v + i) * kvLora + j]);
                            }
                        }
                    }
                });
            }
            w.write(out);
        }
    }
}
