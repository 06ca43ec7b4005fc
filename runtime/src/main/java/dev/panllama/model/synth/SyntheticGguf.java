package dev.panllama.model.synth;

import dev.panllama.model.Architecture;
import dev.panllama.tensor.GgmlType;
import dev.panllama.util.ProgressListener;

import java.io.IOException;
import java.nio.file.Path;

/** A synthetic model of some architecture that can be written as GGUF ({@code panllama synth}). */
public sealed interface SyntheticGguf permits SyntheticModel, SyntheticDeepseek2 {

    /**
     * The model of a preset for an architecture: deepseek2 takes the preset's deepseek2 shape (tiny, v3),
     * the llama family its llama shape ({@link SyntheticModel#of}).
     *
     * @param layers overrides the preset's layer count when positive
     */
    static SyntheticGguf of(Architecture arch, SyntheticPreset preset, int layers, GgmlType type, long seed) {
        return arch == Architecture.DEEPSEEK2
                ? SyntheticDeepseek2.of(preset, layers, type, seed)
                : SyntheticModel.of(arch, preset, layers, type, seed);
    }

    Architecture arch();

    /** Parameters of the model with a vocabulary of {@code vocabSize} tokens. */
    long parameterCount(int vocabSize);

    /**
     * Writes the model to {@code out}, copying every {@code tokenizer.*} key of {@code vocabFrom} (the
     * vocabulary size is its token count).
     *
     * @param threads threads generating and encoding rows; the file is the same for any count
     */
    SyntheticModel.Summary write(Path out, Path vocabFrom, int threads, ProgressListener progress) throws IOException;
}
