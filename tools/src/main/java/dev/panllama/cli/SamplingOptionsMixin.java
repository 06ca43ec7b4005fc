package dev.panllama.cli;

import dev.panllama.sampling.SamplerChain;
import dev.panllama.sampling.SamplerParams;
import picocli.CommandLine.Option;

/** llama.cpp's sampling flags, with its defaults. */
final class SamplingOptionsMixin {
    @Option(names = "--temp", paramLabel = "T", defaultValue = "0.8", description = "Temperature; 0 or less = greedy, as in llama.cpp (default: ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", paramLabel = "N", defaultValue = "40", description = "Top-k; 0 or less = off, as in llama.cpp (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "Top-p; 1.0 = off (default: ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0.05", description = "Min-p; 0.0 = off (default: ${DEFAULT-VALUE})")
    float minP;

    @Option(names = "--repeat-penalty", paramLabel = "R", defaultValue = "1.0", description = "Repetition penalty; 1.0 = off (default: ${DEFAULT-VALUE})")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", defaultValue = "64", description = "Tokens the penalty looks back; -1 = context (default: ${DEFAULT-VALUE})")
    int repeatLastN;

    @Option(names = "--frequency-penalty", paramLabel = "F", defaultValue = "0.0", description = "Frequency penalty (default: ${DEFAULT-VALUE})")
    float frequencyPenalty;

    @Option(names = "--presence-penalty", paramLabel = "P", defaultValue = "0.0", description = "Presence penalty (default: ${DEFAULT-VALUE})")
    float presencePenalty;

    @Option(names = {"-s", "--seed"}, paramLabel = "N", defaultValue = "-1", description = "RNG seed, 0 or more; -1 = random (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--samplers", paramLabel = "LIST", description = "The samplers' order, ';'-separated (default: penalties;dry;top_n_sigma;top_k;typ_p;top_p;min_p;xtc;temperature)")
    String samplers;

    @Option(names = "--typical", paramLabel = "P", defaultValue = "1.0", description = "Locally typical sampling; 1.0 = off (default: ${DEFAULT-VALUE})")
    float typicalP;

    @Option(names = "--mirostat", paramLabel = "N", defaultValue = "0", description = "Mirostat 1 or 2 instead of top-k/top-p/...; 0 = off (default: ${DEFAULT-VALUE})")
    int mirostat;

    @Option(names = "--mirostat-lr", paramLabel = "ETA", defaultValue = "0.1", description = "Mirostat learning rate (default: ${DEFAULT-VALUE})")
    float mirostatEta;

    @Option(names = "--mirostat-ent", paramLabel = "TAU", defaultValue = "5.0", description = "Mirostat target entropy (default: ${DEFAULT-VALUE})")
    float mirostatTau;

    @Option(names = "--dry-multiplier", paramLabel = "M", defaultValue = "0.0", description = "DRY repetition penalty; 0.0 = off (default: ${DEFAULT-VALUE})")
    float dryMultiplier;

    @Option(names = "--dry-base", paramLabel = "B", defaultValue = "1.75", description = "DRY base (default: ${DEFAULT-VALUE})")
    float dryBase;

    @Option(names = "--dry-allowed-length", paramLabel = "N", defaultValue = "2", description = "Repeats DRY lets pass (default: ${DEFAULT-VALUE})")
    int dryAllowedLength;

    @Option(names = "--dry-penalty-last-n", paramLabel = "N", defaultValue = "-1", description = "Tokens DRY looks back; -1 = all (default: ${DEFAULT-VALUE})")
    int dryPenaltyLastN;

    @Option(names = "--dry-sequence-breaker", paramLabel = "TEXT", description = "A text that ends a DRY repeat (repeatable; 'none' for none; default: \\n : \" *)")
    java.util.List<String> drySequenceBreakers;

    @Option(names = "--xtc-probability", paramLabel = "P", defaultValue = "0.0", description = "XTC: chance to drop the top choices; 0.0 = off (default: ${DEFAULT-VALUE})")
    float xtcProbability;

    @Option(names = "--xtc-threshold", paramLabel = "P", defaultValue = "0.1", description = "XTC: probability from which a token is a top choice (default: ${DEFAULT-VALUE})")
    float xtcThreshold;

    @Option(names = {"--top-n-sigma", "--top-nsigma"}, paramLabel = "N", defaultValue = "-1", description = "Keep logits within N standard deviations of the largest; -1 = off (default: ${DEFAULT-VALUE})")
    float topNSigma;

    @Option(names = "--ignore-eos", description = "Never sample an end-of-generation token: generate -n tokens (run and chat)")
    boolean ignoreEos;

    @Option(names = {"-l", "--logit-bias"}, paramLabel = "TOKEN(+|-)BIAS", description = "Add BIAS to TOKEN's logit, e.g. 15043+1 or 15043-inf (repeatable)")
    java.util.List<String> logitBias;

    /**
     * The settings, checked here so that messages name the flag: NaN passes every range test (and
     * would sample garbage), and a negative seed other than -1 would silently be a random one.
     */
    SamplerParams params() {
        finite("--temp", temperature);
        finite("--top-p", topP);
        finite("--min-p", minP);
        finite("--repeat-penalty", repeatPenalty);
        finite("--frequency-penalty", frequencyPenalty);
        finite("--presence-penalty", presencePenalty);
        if (topP < 0 || topP > 1) throw new IllegalArgumentException("--top-p " + topP + ": must be in [0, 1]");
        if (minP < 0 || minP > 1) throw new IllegalArgumentException("--min-p " + minP + ": must be in [0, 1]");
        if (repeatPenalty <= 0) throw new IllegalArgumentException("--repeat-penalty " + repeatPenalty + ": must be positive (1.0 = off)");
        if (repeatLastN < -1) throw new IllegalArgumentException("--repeat-last-n " + repeatLastN + ": must be 0 or more, or -1 (the context)");
        if (seed < -1) throw new IllegalArgumentException("-s " + seed + ": must be 0 or more, or -1 (random)");
        for (var f : new Object[][]{{"--typical", typicalP}, {"--mirostat-lr", mirostatEta}, {"--mirostat-ent", mirostatTau},
                {"--dry-multiplier", dryMultiplier}, {"--dry-base", dryBase}, {"--xtc-probability", xtcProbability},
                {"--xtc-threshold", xtcThreshold}, {"--top-n-sigma", topNSigma}}) {
            finite((String) f[0], (Float) f[1]);
        }
        if (!(typicalP > 0 && typicalP <= 1)) throw new IllegalArgumentException("--typical " + typicalP + ": must be in (0, 1]");
        if (mirostat < 0 || mirostat > 2) throw new IllegalArgumentException("--mirostat " + mirostat + ": must be 0, 1 or 2");
        if (!(mirostatEta > 0)) throw new IllegalArgumentException("--mirostat-lr " + mirostatEta + ": must be positive");
        if (mirostatTau < 0) throw new IllegalArgumentException("--mirostat-ent " + mirostatTau + ": must not be negative");
        if (dryMultiplier < 0) throw new IllegalArgumentException("--dry-multiplier " + dryMultiplier + ": must not be negative");
        if (dryBase < 1) throw new IllegalArgumentException("--dry-base " + dryBase + ": must be at least 1");
        if (dryAllowedLength < 0) throw new IllegalArgumentException("--dry-allowed-length " + dryAllowedLength + ": must not be negative");
        if (dryPenaltyLastN < -1) throw new IllegalArgumentException("--dry-penalty-last-n " + dryPenaltyLastN + ": must be 0 or more, or -1");
        if (xtcProbability < 0 || xtcProbability > 1) throw new IllegalArgumentException("--xtc-probability " + xtcProbability + ": must be in [0, 1]");
        if (xtcThreshold < 0 || xtcThreshold > 1) throw new IllegalArgumentException("--xtc-threshold " + xtcThreshold + ": must be in [0, 1]");
        SamplerChain d = SamplerChain.DEFAULTS;
        java.util.List<String> breakers = drySequenceBreakers == null ? d.drySequenceBreakers()
                : drySequenceBreakers.size() == 1 && drySequenceBreakers.getFirst().equals("none") ? java.util.List.of()
                : drySequenceBreakers.stream().map(SamplingOptionsMixin::unescape).toList();
        java.util.List<SamplerChain.Stage> order = d.order();
        if (samplers != null) {
            try {
                order = java.util.Arrays.stream(samplers.split(";")).filter(x -> !x.isBlank()).map(SamplerChain.Stage::parse).toList();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--samplers " + samplers + ": " + e.getMessage());
            }
        }
        SamplerChain chain = new SamplerChain(typicalP, mirostat, mirostatTau, mirostatEta, dryMultiplier, dryBase, dryAllowedLength,
                dryPenaltyLastN, breakers, xtcProbability, xtcThreshold, topNSigma, logitBias(), order);
        return new SamplerParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, chain);
    }

    /** llama.cpp's --logit-bias TOKEN(+|-)BIAS: 15043+1, 15043-0.5, 15043-inf. */
    private java.util.Map<Integer, Float> logitBias() {
        java.util.Map<Integer, Float> out = new java.util.HashMap<>();
        if (logitBias == null) return out;
        for (String b : logitBias) {
            var m = java.util.regex.Pattern.compile("(\\d+)([+-])(inf|\\d+(\\.\\d+)?)").matcher(b.strip());
            if (!m.matches()) throw new IllegalArgumentException("--logit-bias " + b + ": must be TOKEN+BIAS or TOKEN-BIAS, e.g. 15043+1 or 15043-inf");
            float v = m.group(3).equals("inf") ? Float.POSITIVE_INFINITY : Float.parseFloat(m.group(3));
            out.put(Integer.parseInt(m.group(1)), m.group(2).equals("-") ? -v : v);
        }
        return out;
    }

    /** The escapes llama.cpp decodes in a sequence breaker (\n, \t, \\, \"). */
    private static String unescape(String s) {
        return s.replace("\\n", "\n").replace("\\t", "\t").replace("\\\"", "\"").replace("\\\\", "\\");
    }

    private static void finite(String flag, float v) {
        if (!Float.isFinite(v)) throw new IllegalArgumentException(flag + " " + v + ": must be a finite number");
    }
}
