package dev.panllama.sampling;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * llama.cpp's samplers beyond the basic ones, all off by default, and the order of the chain
 * ({@code --samplers}; llama.cpp's default {@code penalties;dry;top_n_sigma;top_k;typ_p;top_p;min_p;xtc;temperature}).
 *
 * @param typicalP            locally typical sampling's mass (1: off)
 * @param mirostat            0 off, 1 or 2: Mirostat v1/v2 replaces the truncating samplers
 * @param mirostatTau         Mirostat's target surprise (entropy), in bits
 * @param mirostatEta         Mirostat's learning rate
 * @param dryMultiplier       DRY's penalty scale (0: off)
 * @param dryBase             DRY's penalty base
 * @param dryAllowedLength    repeats up to this long go unpenalized
 * @param dryPenaltyLastN     tokens DRY looks back (-1: all)
 * @param drySequenceBreakers texts that end a repeat (a token whose text contains one breaks it)
 * @param xtcProbability      chance that XTC acts on a token (0: off)
 * @param xtcThreshold        XTC removes all tokens at least this probable but the least probable of them
 * @param topNSigma           keep logits within n standard deviations of the largest (-1: off)
 * @param logitBias           added to a token's logit before anything (-infinity bans it)
 * @param order               the chain's stages, in order
 */
public record SamplerChain(float typicalP, int mirostat, float mirostatTau, float mirostatEta, float dryMultiplier, float dryBase,
                           int dryAllowedLength, int dryPenaltyLastN, List<String> drySequenceBreakers, float xtcProbability,
                           float xtcThreshold, float topNSigma, Map<Integer, Float> logitBias, List<Stage> order) {

    /** A stage of the chain, named as llama.cpp's --samplers names it. */
    public enum Stage {
        PENALTIES("penalties"), DRY("dry"), TOP_N_SIGMA("top_n_sigma"), TOP_K("top_k"), TYPICAL_P("typ_p"), TOP_P("top_p"),
        MIN_P("min_p"), XTC("xtc"), TEMPERATURE("temperature");

        private final String cliName;

        Stage(String cliName) {
            this.cliName = cliName;
        }

        public String cliName() { return cliName; }

        /** One name (llama.cpp's, or its aliases typical_p, typical, top-k, ...). */
        public static Stage parse(String name) {
            String n = name.strip().toLowerCase(Locale.ROOT).replace('-', '_');
            if (n.equals("typical_p") || n.equals("typical")) return TYPICAL_P;
            if (n.equals("temp")) return TEMPERATURE;
            for (Stage s : values()) if (s.cliName.equals(n)) return s;
            throw new IllegalArgumentException("unknown sampler '" + name + "' (samplers: " + String.join(";", Arrays.stream(values()).map(Stage::cliName).toList()) + ")");
        }
    }

    public static final List<Stage> DEFAULT_ORDER = List.of(Stage.PENALTIES, Stage.DRY, Stage.TOP_N_SIGMA, Stage.TOP_K, Stage.TYPICAL_P,
            Stage.TOP_P, Stage.MIN_P, Stage.XTC, Stage.TEMPERATURE);

    /** llama.cpp's defaults: every extra sampler off, the default order. */
    public static final SamplerChain DEFAULTS = new SamplerChain(1.0f, 0, 5.0f, 0.1f, 0f, 1.75f, 2, -1,
            List.of("\n", ":", "\"", "*"), 0f, 0.1f, -1f, Map.of(), DEFAULT_ORDER);

    public SamplerChain {
        if (!(typicalP > 0 && typicalP <= 1)) throw new IllegalArgumentException("typical-p must be in (0, 1], not " + typicalP);
        if (mirostat < 0 || mirostat > 2) throw new IllegalArgumentException("mirostat must be 0, 1 or 2, not " + mirostat);
        if (!(mirostatEta > 0) || !(mirostatTau >= 0)) throw new IllegalArgumentException("mirostat-lr must be positive and mirostat-ent not negative");
        if (dryMultiplier < 0 || !(dryBase >= 1) || dryAllowedLength < 0 || dryPenaltyLastN < -1) {
            throw new IllegalArgumentException("DRY needs multiplier >= 0, base >= 1, allowed length >= 0 and penalty-last-n >= -1");
        }
        if (xtcProbability < 0 || xtcProbability > 1 || xtcThreshold < 0 || xtcThreshold > 1) {
            throw new IllegalArgumentException("XTC's probability and threshold must be in [0, 1]");
        }
        drySequenceBreakers = List.copyOf(drySequenceBreakers);
        logitBias = Map.copyOf(logitBias);
        order = List.copyOf(order);
    }
}
