package dev.panllama.convert;

import dev.panllama.gguf.GgufLoadOptions;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.gguf.TensorSource;
import dev.panllama.model.ModelConverter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The converters as the model loader sees them (registered in META-INF/services): a Hugging Face model
 * directory and an FP8 GGUF are both read with their FP8 weights converted to Q8_0 as they load. A
 * directory's safetensors files are always mapped.
 */
public final class ModelSources implements ModelConverter {

    @Override
    public boolean readsDirectory(Path directory) {
        return HfModel.isModelDirectory(directory);
    }

    @Override
    public TensorSource openDirectory(Path directory, GgufLoadOptions options, int threads, Path vocabFrom) throws IOException {
        HfModel hf = HfModel.open(directory, vocabFrom);
        return ConvertedSource.load(directory.getFileName().toString(), hf.metadata().build(), hf.tensors(), hf, threads, options.progress());
    }

    @Override
    public TensorSource converted(MappedGguf gguf, GgufLoadOptions options, int threads) throws IOException {
        List<SourceTensor> tensors;
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
