package dev.panllama.model;

import dev.panllama.kv.KvCache;
import dev.panllama.tensor.GgmlType;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A context shift (drop [keep, keep + discard), move the rest down, re-rotate their keys) must put each
 * moved key where evaluating its token at the new position would. Layer 0's keys and values depend on
 * the token and its position only (deeper layers also on what the token attended to, which a shift
 * keeps, as llama.cpp's does), so a fresh session evaluating the kept tokens is their exact reference:
 * with an F32 cache they agree to float rounding (max |d| <= 1e-6 of the rows' largest value), with F16
 * to one more F16 rounding (<= 2e-3 of it; F16 keeps 11 bits). Moving the rows without re-rotating them would miss by far more (checked, so the test can
 * fail). Normal RoPE (llama: stories260K, zoo Q4_0), the latent cache's rope part (DeepSeek-V2 MLA),
 * and NeoX RoPE (Qwen3, from ../shared's zoo: skipped without it).
 */
class ContextShiftTest {
    @ParameterizedTest(name = "{0} cache {1}")
    @CsvSource({"stories260K, F32, 1e-6", "stories260K, F16, 2e-3", "zoo-llama-Q4_0.gguf, F32, 1e-6",
            "zoo-deepseek2mla-Q4_K.gguf, F32, 1e-6", "zoo-deepseek2mla-Q4_K.gguf, F16, 2e-3", "zoo-qwen3-Q4_K.gguf, F32, 1e-6"})
    void movedKeysAreWhereTheirTokensWouldBe(String file, GgmlType cacheType, double relativeTolerance) throws Exception {
        Path path = file.equals("stories260K") ? TestFiles.stories260K() : TestFiles.requireZoo(file);
        ModelOptions options = ModelOptions.DEFAULTS.withThreads(2).withContextLength(64).withCacheTypes(cacheType, cacheType);
        try (Model model = Model.load(path, options); Session shifted = model.newSession(); Session fresh = model.newSession()) {
            int vocab = model.config().vocabSize();
            int n = 40, keep = 4, discard = 18;
            int[] tokens = IntStream.range(0, n).map(i -> 1 + (i * 37 + 11) % (Math.min(vocab, 500) - 1)).toArray();
            shifted.evaluate(tokens);
            float[][] before = rows(shifted.cache(), keep + discard, n);
            assertThat(shifted.canShift()).isTrue();
            shifted.shift(keep, discard);
            assertThat(shifted.position()).isEqualTo(n - discard);

            int[] kept = new int[n - discard];
            System.arraycopy(tokens, 0, kept, 0, keep);
            System.arraycopy(tokens, keep + discard, kept, keep, n - keep - discard);
            fresh.evaluate(kept);

            float[][] got = rows(shifted.cache(), keep, n - discard);
            float[][] want = rows(fresh.cache(), keep, n - discard);
            double max = 0, unrotated = 0, scale = 0;
            for (int r = 0; r < got.length; r++) {
                for (int i = 0; i < got[r].length; i++) {
                    scale = Math.max(scale, Math.abs(want[r][i]));
                    max = Math.max(max, Math.abs(got[r][i] - want[r][i]));
                    unrotated = Math.max(unrotated, Math.abs(before[r][i] - want[r][i]));
                }
            }
            double tolerance = relativeTolerance * scale;
            System.out.printf("ContextShiftTest %s %s: layer-0 rows max |d| %.2e of max |x| %.2f (unrotated: %.2e)%n", file, cacheType, max, scale, unrotated);
            assertThat(max).isLessThanOrEqualTo(tolerance);
            assertThat(unrotated).isGreaterThan(100 * tolerance);
            // The kept prefix is untouched, and the session goes on evaluating at its new position.
            assertThat(rows(shifted.cache(), 0, keep)).isDeepEqualTo(rows(fresh.cache(), 0, keep));
            assertThat(shifted.evaluate(7)).hasSize(vocab);
        }
    }

    /** Layer 0's key rows then value rows of positions [from, to), decoded. */
    private static float[][] rows(KvCache c, int from, int to) {
        float[][] out = new float[to - from][];
        for (int p = from; p < to; p++) {
            float[] row = new float[c.keyRowElements() + (c.isLatent() ? 0 : c.valueRowElements())];
            c.keyType().codec().dequantize(c.keyRow(0, p), 0, row, 0, c.keyRowElements());
            if (!c.isLatent()) c.valueType().codec().dequantize(c.valueRow(0, p), 0, row, c.keyRowElements(), c.valueRowElements());
            out[p - from] = row;
        }
        return out;
    }
}
