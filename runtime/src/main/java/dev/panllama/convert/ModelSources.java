package dev.panllama.convert;

import dev.panllama.gguf.GgufLoadOptions;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.gguf.TensorSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens what a model can be loaded from: a GGUF file (mapped, used as it is), an FP8 GGUF (its FP8
 * weights converted to Q8_0), or a Hugging Face model directory (converted on the fly the same way).
 * A directory's safetensors files are always mapped; --no-mmap and --mlock apply to GGUF files.
 */
public final class ModelSources {
    private ModelSources() {}

    /**
     * @param threads   threads for the conversion of FP8 weights
     * @param vocabFrom for a Hugging Face directory: a GGUF whose tokenizer is used instead of tokenizer.json; may be null
     */
    public static TensorSource open(Path path, GgufLoadOptions options, int threads, Path vocabFrom) throws IOException {
        if (Files.isDirectory(path)) {
            if (!HfModel.isModelDirectory(path)) {
                throw new IOException(path + ": is a directory without config.json, neither a GGUF file nor a Hugging Face model");
            }
            HfModel hf = HfModel.open(path, vocabFrom);
            return ConvertedSource.load(path.getFileName().toString(), hf.metadata().build(), hf.tensors(), hf, threads, options.progress());
        }
        MappedGguf gguf = MappedGguf.open(path, options);
        java.util.List<SourceTensor> tensors;
        try {
            if (!Fp8Gguf.isFp8(gguf)) return gguf;
            tensors = Fp8Gguf.tensors(gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
        return ConvertedSource.load(gguf.displayName(), gguf.metadata(), tensors, gguf, threads, options.progress());
    }
}
