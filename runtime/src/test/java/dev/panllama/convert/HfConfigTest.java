package dev.panllama.convert;

import dev.panllama.gguf.GgufMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** config.json to GGUF keys and Hugging Face tensor names to llama.cpp's (convert_hf_to_gguf.py, tensor_mapping.py). */
class HfConfigTest {

    private static HfConfig config(Path dir, String json) throws IOException {
        Files.writeString(dir.resolve("config.json"), json);
        return HfConfig.read(dir);
    }

    @Test
    void qwen3WritesItsHeadSizeAndNoLlamaKeys(@TempDir Path dir) throws IOException {
        HfConfig c = config(dir, """
                {"architectures": ["Qwen3ForCausalLM"], "hidden_size": 1024, "intermediate_size": 3072,
                 "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128, "num_hidden_layers": 28,
                 "vocab_size": 151936, "rms_norm_eps": 1e-6, "rope_theta": 1000000, "max_position_embeddings": 40960,
                 "tie_word_embeddings": true}""");
        assertThat(c.architecture()).isEqualTo(HfArchitecture.QWEN3);
        assertThat(c.fp8()).isNull();
        MetadataBuilder md = new MetadataBuilder();
        c.putHyperParameters(md, "Qwen3-0.6B", 151936);
        GgufMetadata m = md.build();
        assertThat(m.getString("general.architecture")).isEqualTo("qwen3");
        assertThat(m.getInt("qwen3.attention.key_length")).isEqualTo(128);
        assertThat(m.getInt("qwen3.attention.value_length")).isEqualTo(128);
        assertThat(m.getInt("qwen3.context_length")).isEqualTo(40960);
        assertThat(m.getFloat("qwen3.rope.freq_base", 0)).isEqualTo(1e6f);
        assertThat(m.getFloat("qwen3.attention.layer_norm_rms_epsilon", 0)).isEqualTo(1e-6f);
        assertThat(m.contains("qwen3.rope.dimension_count")).isFalse();
        assertThat(m.contains("qwen3.vocab_size")).isFalse();
        assertThat(c.tiedEmbeddings()).isTrue();
    }

    @Test
    void llamaWritesRopeKeysAndLlama3Frequencies(@TempDir Path dir) throws IOException {
        HfConfig c = config(dir, """
                {"architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
                 "num_attention_heads": 32, "num_key_value_heads": 8, "num_hidden_layers": 32, "vocab_size": 128256,
                 "rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                 "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}""");
        assertThat(c.architecture()).isEqualTo(HfArchitecture.LLAMA);
        MetadataBuilder md = new MetadataBuilder();
        c.putHyperParameters(md, "m", 128256);
        GgufMetadata m = md.build();
        assertThat(m.getInt("llama.rope.dimension_count")).isEqualTo(128);
        assertThat(m.getInt("llama.vocab_size")).isEqualTo(128256);
        assertThat(m.contains("llama.rope.scaling.type")).as("llama3 scaling is a tensor, not keys").isFalse();
        float[] f = c.llama3RopeFactors();
        assertThat(f).hasSize(64);
        // High frequencies (short wavelengths) are kept, the lowest are divided by the factor.
        assertThat(f[0]).isEqualTo(1f);
        assertThat(f[63]).isEqualTo(8f);
        for (int i = 1; i < f.length; i++) assertThat(f[i]).isGreaterThanOrEqualTo(f[i - 1]);
    }

    @Test
    void unsupportedArchitecturesAndQuantizationsAreNamed(@TempDir Path dir) {
        assertThatThrownBy(() -> config(dir, "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\"}"))
                .hasMessageContaining("GPT2LMHeadModel is not supported");
        assertThatThrownBy(() -> config(dir, "{\"model_type\": \"llama\", \"quantization_config\": {\"quant_method\": \"awq\"}}"))
                .hasMessageContaining("quant_method 'awq' is not supported");
        assertThatThrownBy(() -> config(dir, "{\"model_type\": \"llama\", \"quantization_config\": "
                + "{\"quant_method\": \"fp8\", \"weight_block_size\": [128]}}"))
                .hasMessageContaining("weight_block_size [128] is not two positive integers");
        assertThatThrownBy(() -> config(dir, "{\"model_type\": ")).hasMessageContaining("invalid JSON");
    }

    @Test
    void tensorNamesMapToLlamaCpp() {
        assertThat(HfTensorNames.map("model.layers.3.self_attn.q_proj.bias", HfArchitecture.QWEN2))
                .isEqualTo(new HfTensorNames.Target("blk.3.attn_q.bias", null, -1));
        assertThat(HfTensorNames.map("model.layers.3.self_attn.k_proj.weight", HfArchitecture.LLAMA))
                .isEqualTo(new HfTensorNames.Target("blk.3.attn_k.weight", "k", -1));
        assertThat(HfTensorNames.map("model.layers.0.self_attn.k_norm.weight", HfArchitecture.QWEN3).name()).isEqualTo("blk.0.attn_k_norm.weight");
        assertThat(HfTensorNames.map("model.layers.7.mlp.experts.12.up_proj.weight", HfArchitecture.QWEN3MOE))
                .isEqualTo(new HfTensorNames.Target("blk.7.ffn_up_exps.weight", null, 12));
        assertThat(HfTensorNames.map("model.layers.7.mlp.gate.weight", HfArchitecture.QWEN3MOE).name()).isEqualTo("blk.7.ffn_gate_inp.weight");
        assertThat(HfTensorNames.map("lm_head.weight", HfArchitecture.QWEN3).name()).isEqualTo("output.weight");
        assertThat(HfTensorNames.isDropped("model.layers.0.self_attn.k_proj.input_scale")).isTrue();
        assertThat(HfTensorNames.isScale("model.layers.0.mlp.up_proj.weight_scale_inv")).isTrue();
        assertThat(HfTensorNames.scaledWeight("a.weight_scale_inv")).isEqualTo("a.weight");
        assertThat(HfTensorNames.scaledWeight("a.weight_scale")).isEqualTo("a.weight");
        assertThatThrownBy(() -> HfTensorNames.map("model.layers.0.mlp.shared_expert.up_proj.weight", HfArchitecture.QWEN3MOE))
                .hasMessageContaining("cannot map tensor 'model.layers.0.mlp.shared_expert.up_proj.weight'");
    }

    /** llama.cpp's permute: reshape(n_head, 2, d/2, ...).swapaxes(1, 2); here with 2 heads of 4 rows. */
    @Test
    void headPermutationInterleavesTheTwoHalvesOfEachHead() {
        var p = HfTensors.headPermutation("q", 8, 2);
        long[] source = new long[8];
        for (int r = 0; r < 8; r++) source[r] = p.applyAsLong(r);
        assertThat(source).containsExactly(0, 2, 1, 3, 4, 6, 5, 7);
        assertThatThrownBy(() -> HfTensors.headPermutation("blk.0.attn_k.weight", 6, 4)).hasMessageContaining("do not split into 4 heads");
    }

    @Test
    void scaleTilesComeFromTheScaleShape() {
        assertThat(ScaleGrid.tile(576, 5, 128, "s")).isEqualTo(128);   // DeepSeek's kv_a_proj: a partial last tile
        assertThat(ScaleGrid.tile(576, 1, 128, "s")).isEqualTo(576);
        assertThat(ScaleGrid.tile(576, 576, 0, "s")).isEqualTo(1);
        assertThatThrownBy(() -> ScaleGrid.tile(576, 3, 128, "scale 'x' rows")).hasMessageContaining("scale 'x' rows: 3 scales");
        assertThatThrownBy(() -> ScaleGrid.tile(576, 5, 0, "s")).hasMessageContaining("no weight_block_size");
    }
}
