package dev.panllama.cli;

import dev.panllama.model.ContextShift;
import picocli.CommandLine.Option;

/**
 * llama.cpp's context-shift flags: {@code --context-shift} / {@code --no-context-shift} and {@code --keep}.
 * Whether shifting is on by default is the command's choice (llama-cli's yes, llama-server's no).
 */
final class ContextShiftOptionsMixin {
    @Option(names = "--context-shift", negatable = true,
            description = "When the context fills during generation, drop half of it after --keep tokens and go on"
                    + " (run and chat: on with a bounded -n, unless --no-context-shift; serve: off unless --context-shift)")
    Boolean contextShift;

    @Option(names = "--keep", paramLabel = "N", defaultValue = "0",
            description = "Prompt tokens a context shift keeps, after the BOS token; -1: the whole prompt (default: ${DEFAULT-VALUE})")
    int keep;

    ContextShift shift(boolean onByDefault) {
        if (keep < -1) throw new IllegalArgumentException("--keep " + keep + ": must be -1 (the whole prompt) or more");
        return new ContextShift(contextShift != null ? contextShift : onByDefault, keep);
    }
}
