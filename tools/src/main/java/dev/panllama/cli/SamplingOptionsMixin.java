package dev.panllama.cli;

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
        return new SamplerParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed);
    }

    private static void finite(String flag, float v) {
        if (!Float.isFinite(v)) throw new IllegalArgumentException(flag + " " + v + ": must be a finite number");
    }
}
