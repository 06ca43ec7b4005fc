package dev.panllama.model;

import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufMetadata;
import dev.panllama.gguf.GgufValueType;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * RoPE scaling read as llama.cpp reads it, for every architecture: linear, and YaRN with its
 * rope.scaling.yarn_* keys (what --yarn-* override). YaRN's angles are checked against its definition:
 * the fastest dims keep the unscaled angle, the slowest get the linearly scaled one, with the magnitude
 * 1 + 0.1 ln(factor). (The deepseek2 YaRN oracle, zoo-deepseek2yarn, checks the same angles against llama.cpp.)
 */
class RopeScalingTest {
    private static RopeScaling read(Object... kv) {
        Map<String, GgufEntry> e = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            String key = "llama." + kv[i];
            Object v = kv[i + 1];
            GgufValueType t = v instanceof String ? GgufValueType.STRING : v instanceof Integer ? GgufValueType.UINT32 : GgufValueType.FLOAT32;
            e.put(key, new GgufEntry(key, t, v instanceof Integer n ? (Object) Long.valueOf(n) : v, -1));
        }
        GgufMetadata md = GgufMetadata.of(e);
        return RopeScaling.read(md, new HyperparameterKeys(md, "llama"), 4096);
    }

    @Test
    void noneAndLinear() {
        assertThat(read()).isEqualTo(new RopeScaling(1f, 0f, 1f, 32f, 1f, 4096));
        assertThat(read("rope.scaling.type", "linear", "rope.scaling.factor", 4f).freqScale()).isEqualTo(0.25f);
        assertThat(read("rope.scaling.type", "none", "rope.scaling.factor", 4f).freqScale()).isEqualTo(1f);
        assertThatThrownBy(() -> read("rope.scaling.type", "longrope")).hasMessageContaining("only none, linear and yarn are supported yet");
    }

    @Test
    void yarnParameters() {
        RopeScaling y = read("rope.scaling.type", "yarn", "rope.scaling.factor", 4f, "rope.scaling.original_context_length", 1024);
        assertThat(y.yarn()).isTrue();
        assertThat(y.extFactor()).isEqualTo(1f);
        assertThat(y.attnFactor()).isCloseTo(1f, within(1e-6f));     // llama_context's mscale, cancelled against ggml's
        assertThat(y.origContext()).isEqualTo(1024);
        RopeScaling o = read("rope.scaling.type", "yarn", "rope.scaling.factor", 4f, "rope.scaling.yarn_beta_fast", 16f,
                "rope.scaling.yarn_beta_slow", 2f, "rope.scaling.yarn_attn_factor", 0.5f, "rope.scaling.yarn_ext_factor", 0.25f);
        assertThat(o).isEqualTo(new RopeScaling(0.25f, 0.25f, o.attnFactor(), 16f, 2f, 4096));
        assertThat(o.attnFactor()).isCloseTo(0.5f, within(1e-6f));
        assertThat(read("rope.scaling.type", "linear", "rope.scaling.yarn_ext_factor", 1f).yarn()).isTrue();
    }

    @Test
    void yarnAnglesBlendExtrapolationAndInterpolation() {
        int nRot = 64;
        float base = 10000f;
        RopeScaling y = read("rope.scaling.type", "yarn", "rope.scaling.factor", 8f, "rope.scaling.original_context_length", 2048);
        float[] got = new float[nRot];
        y.angles(nRot, base, null).fill(1000, 1, got);
        float magnitude = 1f + 0.1f * (float) Math.log(8f);
        float theta = 1000f, step = (float) Math.pow(base, -2.0 / nRot);
        for (int i = 0; i < nRot; i += 2) {
            assertThat(Math.hypot(got[i], got[i + 1])).isCloseTo(magnitude, within(1e-4));
            double angle = Math.atan2(got[i + 1], got[i]);
            if (i / 2 <= 2) assertThat(Math.cos(angle - theta)).as("dim %d extrapolates", i).isCloseTo(1.0, within(1e-3));
            if (i / 2 >= nRot / 2 - 4) assertThat(Math.cos(angle - theta / 8)).as("dim %d interpolates", i).isCloseTo(1.0, within(1e-3));
            theta *= step;
        }
    }
}
