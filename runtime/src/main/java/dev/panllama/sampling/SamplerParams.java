package dev.panllama.sampling;

/**
 * Sampling settings with llama.cpp's defaults (common/common.h, common_params_sampling): temperature
 * 0.8, top-k 40, top-p 0.95, min-p 0.05, repetition penalty 1.0 (off) over the last 64 tokens.
 * A temperature of 0 or below means greedy (arg max), as in llama.cpp.
 *
 * @param seed the RNG seed; -1 draws a random one (llama.cpp's LLAMA_DEFAULT_SEED)
 */
public record SamplerParams(float temperature, int topK, float topP, float minP, float repeatPenalty,
                            int repeatLastN, float frequencyPenalty, float presencePenalty, long seed, SamplerChain chain) {

    /** With llama.cpp's other samplers off and its default order. */
    public SamplerParams(float temperature, int topK, float topP, float minP, float repeatPenalty,
                         int repeatLastN, float frequencyPenalty, float presencePenalty, long seed) {
        this(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, SamplerChain.DEFAULTS);
    }

    public static final SamplerParams DEFAULTS = new SamplerParams(0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0f, 0f, -1);

    public static final SamplerParams GREEDY = DEFAULTS.withTemperature(0f);

    public SamplerParams {
        if (chain == null) chain = SamplerChain.DEFAULTS;
        if (topP < 0 || topP > 1) throw new IllegalArgumentException("top-p must be in [0, 1], not " + topP);
        if (minP < 0 || minP > 1) throw new IllegalArgumentException("min-p must be in [0, 1], not " + minP);
        if (repeatPenalty <= 0) throw new IllegalArgumentException("repeat penalty must be positive, not " + repeatPenalty);
        if (repeatLastN < -1) throw new IllegalArgumentException("repeat-last-n must be >= -1, not " + repeatLastN);
    }

    public boolean greedy() { return temperature <= 0; }

    public SamplerParams withTemperature(float t) {
        return new SamplerParams(t, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, chain);
    }

    public SamplerParams withTopK(int k) {
        return new SamplerParams(temperature, k, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, chain);
    }

    public SamplerParams withTopP(float p) {
        return new SamplerParams(temperature, topK, p, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, chain);
    }

    public SamplerParams withMinP(float p) {
        return new SamplerParams(temperature, topK, topP, p, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, chain);
    }

    public SamplerParams withRepeatPenalty(float r) {
        return new SamplerParams(temperature, topK, topP, minP, r, repeatLastN, frequencyPenalty, presencePenalty, seed, chain);
    }

    public SamplerParams withRepeatLastN(int n) {
        return new SamplerParams(temperature, topK, topP, minP, repeatPenalty, n, frequencyPenalty, presencePenalty, seed, chain);
    }

    /** The other samplers and the chain's order. */
    public SamplerParams withChain(SamplerChain c) {
        return new SamplerParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, c);
    }

    public SamplerParams withSeed(long s) {
        return new SamplerParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, s, chain);
    }
}
