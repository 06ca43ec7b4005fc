package dev.panllama.model;

import dev.panllama.gguf.GgufLoadOptions;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.gguf.TensorSource;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What the loader asks of a converter: to read a model that is not a GGUF file (a Hugging Face
 * directory), and to convert the weights of a GGUF file that panllama does not run as they are (FP8
 * with block scales, turned into Q8_0). The converters (dev.panllama.convert) provide one through
 * {@link java.util.ServiceLoader}, so that inference knows this interface, not the offline tools.
 */
public interface ModelConverter {

    /** Whether {@code directory} holds a model this converter reads. */
    boolean readsDirectory(Path directory);

    /**
     * The model in {@code directory}, converted as it loads.
     *
     * @param threads   threads for the conversion
     * @param vocabFrom a GGUF whose tokenizer is used instead of the directory's; may be null
     */
    TensorSource openDirectory(Path directory, GgufLoadOptions options, int threads, Path vocabFrom) throws IOException;

    /**
     * {@code gguf} with its weights converted, or {@code gguf} itself when it has none this converter
     * converts. A converter that fails closes {@code gguf}; a converted source closes it when it closes.
     */
    TensorSource converted(MappedGguf gguf, GgufLoadOptions options, int threads) throws IOException;
}
