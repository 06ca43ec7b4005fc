package dev.panllama.model;

import dev.panllama.backend.Device;
import dev.panllama.gguf.TensorSource;
import dev.panllama.kv.KvCache;
import dev.panllama.tensor.GgmlType;

import java.util.function.Function;

/**
 * An architecture's loaded weights, as {@link Model} uses them: placed on their devices, then each
 * session's forward pass and the KV cache that pass reads. The architecture picks the implementation.
 */
sealed interface ArchitectureWeights {

    /**
     * Reads the weights of the model's architecture: first its hyper-parameters are checked against the
     * tensors ({@link HyperparameterChecks}), then every weight's shape as it loads; last, the file must
     * hold no tensor the model did not use.
     */
    static ArchitectureWeights load(TensorSource gguf, ModelConfig config) {
        HyperparameterChecks checks = new HyperparameterChecks(gguf, config);
        WeightShapes shapes = new WeightShapes(gguf);
        ArchitectureWeights weights;
        if (config.arch().latentAttention()) {
            Deepseek2Config dc = Deepseek2Config.fromMetadata(gguf.metadata(), config);
            checks.deepseek2(dc);
            weights = new Deepseek2(dc, Deepseek2Weights.load(shapes, dc));
        } else {
            checks.llamaFamily();
            weights = new LlamaFamily(config, LlamaWeights.load(shapes, config));
        }
        checks.allTensorsUsed(shapes.used());
        return weights;
    }

    /** These weights on the devices that hold them ({@link Device#place}). */
    ArchitectureWeights placed(Function<String, Device> deviceOf);

    /** The architecture's graph builder (holds per-batch scratch: one per forward pass). */
    ForwardPass.Builder newGraphBuilder();

    /**
     * An empty cache for {@code contextLength} positions, in the types of -ctk / -ctv where they apply, with
     * host rows for the layers {@code onHost} marks (null: all).
     */
    KvCache newCache(int contextLength, GgmlType keyType, GgmlType valueType, boolean[] onHost);

    /**
     * Host bytes {@link #newCache} would allocate for {@code hostLayers} layers, computed without allocating
     * (so a caller can refuse a -c that does not fit).
     */
    long cacheBytes(int contextLength, GgmlType keyType, GgmlType valueType, int hostLayers);

    /** The weight whose device holds a layer's KV cache and runs its attention (llama.cpp keeps them together). */
    String cacheWeight(int layer);

    /** Where the cache's key rows carry RoPE (what a context shift re-rotates). */
    KeyRope keyRope();

    /** A short line of what {@link ModelConfig#describe} leaves out. */
    default String describe() { return ""; }

    record LlamaFamily(ModelConfig config, LlamaWeights weights) implements ArchitectureWeights {
        @Override
        public ArchitectureWeights placed(Function<String, Device> deviceOf) {
            return new LlamaFamily(config, weights.placed(deviceOf));
        }

        @Override
        public ForwardPass.Builder newGraphBuilder() {
            return new LlamaGraph(config, weights);
        }

        @Override
        public KvCache newCache(int contextLength, GgmlType keyType, GgmlType valueType, boolean[] onHost) {
            checkCacheTypes(keyType, valueType);
            return new KvCache(config.blockCount(), contextLength, config.kvDimK(), config.kvDimV(), keyType, valueType, onHost);
        }

        @Override
        public long cacheBytes(int contextLength, GgmlType keyType, GgmlType valueType, int hostLayers) {
            checkCacheTypes(keyType, valueType);
            return KvCache.bytes(hostLayers, contextLength, keyType.rowBytes(config.kvDimK()) + valueType.rowBytes(config.kvDimV()));
        }

        @Override
        public String cacheWeight(int layer) { return TensorNames.weight(layer, "attn_k"); }

        private void checkCacheTypes(GgmlType keyType, GgmlType valueType) {
            checkCacheType(keyType, config.headDimK(), "-ctk");
            checkCacheType(valueType, config.headDimV(), "-ctv");
        }

        @Override
        public KeyRope keyRope() {
            return new KeyRope(config.ropeScaling().angles(config.nRot(), config.ropeFreqBase(), weights.ropeFreqs()),
                    config.headCountKv(), config.headDimK(), 0, config.nRot(), config.arch().neoxRope());
        }
    }

    /** DeepSeek-V2/V3: a latent cache in the -ctk type (-ctv does not apply: the values are the latent). */
    record Deepseek2(Deepseek2Config config, Deepseek2Weights weights) implements ArchitectureWeights {
        @Override
        public ArchitectureWeights placed(Function<String, Device> deviceOf) {
            return new Deepseek2(config, weights.placed(deviceOf, config.latentLayout()));
        }

        @Override
        public ForwardPass.Builder newGraphBuilder() {
            return new Deepseek2Graph(config, weights);
        }

        @Override
        public KvCache newCache(int contextLength, GgmlType keyType, GgmlType valueType, boolean[] onHost) {
            checkLatentCacheType(keyType);
            return KvCache.latent(config.base().blockCount(), contextLength, config.latentDim(), config.kvLoraRank(), keyType, onHost);
        }

        @Override
        public long cacheBytes(int contextLength, GgmlType keyType, GgmlType valueType, int hostLayers) {
            checkLatentCacheType(keyType);
            return KvCache.bytes(hostLayers, contextLength, keyType.rowBytes(config.latentDim()));
        }

        @Override
        public String cacheWeight(int layer) { return TensorNames.weight(layer, "attn_kv_a_mqa"); }

        /** A latent row holds the kv_lora_rank latent and the rope part: both fill whole blocks of -ctk. */
        private void checkLatentCacheType(GgmlType keyType) {
            checkCacheType(keyType, config.ropeDim(), "-ctk");
            checkCacheType(keyType, config.kvLoraRank(), "-ctk");
        }

        /** The row's rope part follows the latent, rotated in normal mode (see Deepseek2Graph). */
        @Override
        public KeyRope keyRope() {
            return new KeyRope(config.ropeAngles(), 1, config.latentDim(), config.kvLoraRank(), config.ropeDim(), false);
        }

        @Override
        public String describe() { return config.describe(); }
    }

    /** Each head's keys (values) must fill whole blocks of the cache type, as llama.cpp requires too. */
    private static void checkCacheType(GgmlType type, int headDim, String flag) {
        if (headDim % type.blockSize() != 0) {
            throw new IllegalArgumentException(flag + " " + type.ggmlName() + " needs attention heads whose size is a multiple of "
                    + type.blockSize() + "; this model's are " + headDim);
        }
    }
}
