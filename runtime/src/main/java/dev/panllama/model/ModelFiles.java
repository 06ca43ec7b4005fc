package dev.panllama.model;

import dev.panllama.gguf.GgufLoadOptions;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.gguf.TensorSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Opens what a model loads from: a GGUF file, mapped and used as it is, unless a {@link ModelConverter}
 * converts its weights; or a directory that a converter reads. --no-mmap and --mlock apply to GGUF files.
 */
public final class ModelFiles {
    private static final List<ModelConverter> CONVERTERS = ServiceLoader.load(ModelConverter.class).stream()
            .map(ServiceLoader.Provider::get).toList();

    private ModelFiles() {}

    public static TensorSource open(Path path, GgufLoadOptions options, int threads, Path vocabFrom) throws IOException {
        if (Files.isDirectory(path)) {
            for (ModelConverter converter : CONVERTERS) {
                if (converter.readsDirectory(path)) return converter.openDirectory(path, options, threads, vocabFrom);
            }
            throw new IOException(path + ": is a directory without config.json, neither a GGUF file nor a Hugging Face model");
        }
        MappedGguf gguf = MappedGguf.open(path, options);
        for (ModelConverter converter : CONVERTERS) {
            TensorSource converted = converter.converted(gguf, options, threads);   // closes gguf when it fails
            if (converted != gguf) return converted;
        }
        return gguf;
    }
}
