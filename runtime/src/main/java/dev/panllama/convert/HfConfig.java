package dev.panllama.convert;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A Hugging Face {@code config.json}: the architecture and the hyper-parameters, turned into GGUF
 * metadata with llama.cpp's key names and the same choices as its convert_hf_to_gguf.py (which keys
 * are written when, and from which config fields).
 */
public final class HfConfig {
    public static final String FILE = "config.json";
    static final JsonMapper JSON = JsonMapper.builder().build();

    private final Path file;
    private final JsonNode root;
    private final HfArchitecture arch;
    private final Fp8Config fp8;

    private HfConfig(Path file, JsonNode root, HfArchitecture arch, Fp8Config fp8) {
        this.file = file;
        this.root = root;
        this.arch = arch;
        this.fp8 = fp8;
    }

    public static HfConfig read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "no config.json: not a Hugging Face model directory");
        JsonNode root = readJson(file);
        if (!root.isObject()) throw new IOException(file + ": is not a JSON object");
        String archName = root.path("architectures").path(0).asText(null);
        String modelType = root.path("model_type").asText(null);
        HfArchitecture arch = HfArchitecture.of(archName, modelType);
        if (arch == null) {
            throw new IOException(file + ": architecture " + (archName != null ? archName : modelType)
                    + " is not supported (llama, mistral, qwen2, qwen3, qwen3_moe)");
        }
        try {
            return new HfConfig(file, root, arch, Fp8Config.of(root.get("quantization_config"), file.toString()));
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    static JsonNode readJson(Path file) throws IOException {
        try {
            JsonNode n = JSON.readTree(Files.readAllBytes(file));
            if (n == null) throw new IOException(file + ": empty JSON file");
            return n;
        } catch (JacksonException e) {
            throw new IOException(file + ": invalid JSON: " + e.getOriginalMessage(), e);
        }
    }

    public HfArchitecture architecture() { return arch; }

    /** The FP8 quantization of the checkpoint, or null when it has none. */
    public Fp8Config fp8() { return fp8; }

    public Path file() { return file; }

    JsonNode root() { return root; }

    /** The first of {@code keys} present, as an int; fails naming the keys when none is. */
    public int requireInt(String... keys) {
        for (String k : keys) {
            JsonNode n = root.get(k);
            if (n != null && !n.isNull()) {
                if (!n.canConvertToInt()) throw new IllegalArgumentException(file + ": " + k + " = " + n + " is not an integer");
                return n.asInt();
            }
        }
        throw new IllegalArgumentException(file + ": missing " + String.join(" / ", keys));
    }

    /** Integer {@code key}, or {@code fallback} when absent or null. */
    public int intOr(String key, int fallback) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return fallback;
        if (!n.canConvertToInt()) throw new IllegalArgumentException(file + ": " + key + " = " + n + " is not an integer");
        return n.asInt();
    }

    /** Number {@code key}, or NaN when absent or null. */
    public double doubleOr(String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return Double.NaN;
        if (!n.isNumber()) throw new IllegalArgumentException(file + ": " + key + " = " + n + " is not a number");
        return n.asDouble();
    }

    public int layers() { return requireInt("num_hidden_layers", "n_layers", "n_layer", "num_layers"); }

    public int heads() { return requireInt("num_attention_heads", "n_head"); }

    /** KV heads (num_key_value_heads), the attention heads when absent. */
    public int kvHeads() { return intOr("num_key_value_heads", heads()); }

    public int hiddenSize() { return requireInt("hidden_size", "n_embd"); }

    /** Experts of a MoE model (num_experts / num_local_experts), 0 for a dense one. */
    public int experts() {
        int n = intOr("num_experts", -1);
        return n > 0 ? n : Math.max(0, intOr("num_local_experts", 0));
    }

    public boolean tiedEmbeddings() { return root.path("tie_word_embeddings").asBoolean(false); }

    /**
     * Writes the hyper-parameters: Model.set_gguf_parameters' keys for every architecture, then
     * LlamaModel's (vocab size, rope dimensions, linear rope scaling) or Qwen2MoeModel's (experts).
     */
    public void putHyperParameters(MetadataBuilder md, String name, int vocabSize) {
        String a = arch.ggufName();
        String p = a + ".";
        md.putString("general.architecture", a);
        md.putString("general.name", name);
        int ctx = intOr("max_position_embeddings", intOr("n_ctx", -1));
        if (ctx > 0) md.putU32(p + "context_length", ctx);
        md.putU32(p + "embedding_length", hiddenSize());
        md.putU32(p + "block_count", layers());
        int ff = intOr("intermediate_size", intOr("n_inner", -1));
        if (ff > 0) md.putU32(p + "feed_forward_length", ff);
        md.putU32(p + "attention.head_count", heads());
        if (root.has("num_key_value_heads")) md.putU32(p + "attention.head_count_kv", kvHeads());
        double theta = doubleOr("rope_theta");
        if (!Double.isNaN(theta)) md.putF32(p + "rope.freq_base", theta);
        double eps = doubleOr("rms_norm_eps");
        if (!Double.isNaN(eps)) md.putF32(p + "attention.layer_norm_rms_epsilon", eps);
        int used = intOr("num_experts_per_tok", -1);
        if (arch == HfArchitecture.QWEN3MOE) {
            if (experts() > 0) md.putU32(p + "expert_count", experts());
            if (used > 0) md.putU32(p + "expert_used_count", used);
            int moeFf = intOr("moe_intermediate_size", -1);
            if (moeFf > 0) md.putU32(p + "expert_feed_forward_length", moeFf);
        }
        int headDim = intOr("head_dim", -1);
        if (headDim > 0) {
            md.putU32(p + "attention.key_length", headDim);
            md.putU32(p + "attention.value_length", headDim);
        }
        if (arch == HfArchitecture.LLAMA) {
            md.putU32(p + "vocab_size", vocabSize);
            md.putU32(p + "rope.dimension_count", headDim > 0 ? headDim : hiddenSize() / heads());
        }
        putRopeScaling(md, p);
    }

    /** Linear scaling (llama) and YaRN (qwen) as llama.cpp writes them; llama3's is a rope_freqs tensor. */
    private void putRopeScaling(MetadataBuilder md, String p) {
        JsonNode rs = root.get("rope_scaling");
        if (rs == null || !rs.isObject() || !rs.has("factor")) return;
        String type = rs.path("type").asText(rs.path("rope_type").asText(""));
        double factor = rs.get("factor").asDouble();
        if (type.equals("linear")) {
            md.putString(p + "rope.scaling.type", "linear");
            md.putF32(p + "rope.scaling.factor", factor);
        } else if (type.equals("yarn")) {
            md.putString(p + "rope.scaling.type", "yarn");
            md.putF32(p + "rope.scaling.factor", factor);
            if (rs.has("original_max_position_embeddings")) {
                md.putU32(p + "rope.scaling.original_context_length", rs.get("original_max_position_embeddings").asInt());
            }
        }
    }

    /**
     * llama3-style rope scaling as the per-pair frequency divisors llama.cpp stores in rope_freqs.weight
     * (LlamaModel.generate_extra_tensors), or null when the config has none.
     */
    public float[] llama3RopeFactors() {
        JsonNode rs = root.get("rope_scaling");
        if (arch != HfArchitecture.LLAMA || rs == null || !rs.path("rope_type").asText("").equalsIgnoreCase("llama3")) return null;
        double base = Double.isNaN(doubleOr("rope_theta")) ? 10000.0 : doubleOr("rope_theta");
        int dim = hiddenSize() / heads();
        double factor = rs.path("factor").asDouble(8.0);
        double lowFreqFactor = rs.path("low_freq_factor").asDouble(1.0);
        double highFreqFactor = rs.path("high_freq_factor").asDouble(4.0);
        double oldContext = rs.path("original_max_position_embeddings").asDouble(8192);
        double lowWavelen = oldContext / lowFreqFactor;
        double highWavelen = oldContext / highFreqFactor;
        float[] out = new float[dim / 2];
        for (int i = 0; i < out.length; i++) {
            // torch computes the frequencies in float32: base ** (2i/dim) then 1 / that.
            float freq = (float) (1.0 / (float) Math.pow(base, (float) (2 * i) / dim));
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                out[i] = 1f;
            } else if (wavelen > lowWavelen) {
                out[i] = (float) factor;
            } else {
                double smooth = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                out[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return out;
    }
}
