package dev.panllama.convert;

import dev.panllama.gguf.GgufArray;
import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.safetensors.SafetensorsCheckpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Hugging Face model directory (config.json, safetensors weights, tokenizer.json) seen as GGUF: the
 * metadata llama.cpp's converter would write and the tensors under llama.cpp's names. The weights stay
 * mapped; nothing is converted until a tensor's rows are read.
 */
public final class HfModel implements AutoCloseable {
    private final Path dir;
    private final HfConfig config;
    private final SafetensorsCheckpoint checkpoint;
    private final MetadataBuilder metadata;
    private final List<SourceTensor> tensors;

    private HfModel(Path dir, HfConfig config, SafetensorsCheckpoint checkpoint, MetadataBuilder metadata, List<SourceTensor> tensors) {
        this.dir = dir;
        this.config = config;
        this.checkpoint = checkpoint;
        this.metadata = metadata;
        this.tensors = List.copyOf(tensors);
    }

    /** Whether {@code path} looks like a Hugging Face model directory. */
    public static boolean isModelDirectory(Path path) {
        return Files.isDirectory(path) && Files.isRegularFile(path.resolve(HfConfig.FILE));
    }

    /**
     * Opens a model directory.
     *
     * @param vocabFrom a GGUF whose tokenizer.* keys are taken instead of the directory's tokenizer.json
     *                  (for checkpoints without one, or tokenizers this converter does not read); may be null
     */
    public static HfModel open(Path dir, Path vocabFrom) throws IOException {
        HfConfig config = HfConfig.read(dir);
        SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir);
        try {
            List<SourceTensor> tensors = HfTensors.of(ckpt, config);
            int vocab = config.intOr("vocab_size", -1);
            if (vocab <= 0) {
                vocab = tensors.stream().filter(t -> t.name().equals("token_embd.weight")).findFirst()
                        .map(t -> Math.toIntExact(t.shape()[1])).orElseThrow(() -> new IOException(dir + ": no vocab_size and no embeddings"));
            }
            MetadataBuilder md = new MetadataBuilder();
            String name = dir.toAbsolutePath().normalize().getFileName().toString();
            config.putHyperParameters(md, name, vocab);
            if (vocabFrom != null) {
                copyTokenizer(vocabFrom, vocab, md);
            } else if (HfVocabulary.present(dir)) {
                HfVocabulary.put(dir, config, vocab, md);
            } else {
                throw new IOException(dir + ": no tokenizer.json; take the tokenizer from a GGUF of the same vocabulary with --vocab-from FILE.gguf");
            }
            return new HfModel(dir, config, ckpt, md, tensors);
        } catch (IOException | RuntimeException e) {
            ckpt.close();
            if (e instanceof IllegalArgumentException) throw new IOException(dir + ": " + e.getMessage(), e);
            throw e;
        }
    }

    private static void copyTokenizer(Path vocabFrom, int vocab, MetadataBuilder md) throws IOException {
        try (MappedGguf g = MappedGguf.open(vocabFrom)) {
            if (!(g.metadata().entry("tokenizer.ggml.tokens").map(GgufEntry::value).orElse(null) instanceof GgufArray tokens)) {
                throw new IOException(vocabFrom + ": no tokenizer.ggml.tokens array to take the vocabulary from");
            }
            if (tokens.size() != vocab) {
                throw new IOException(vocabFrom + ": has " + tokens.size() + " tokens but the model's vocabulary is " + vocab);
            }
            for (GgufEntry e : g.metadata().entries()) {
                // Arrays are views of the mapped file: copy them out before it is unmapped.
                if (e.key().startsWith("tokenizer.")) md.copy(e.value() instanceof GgufArray a ? detach(e, a) : e);
            }
        }
    }

    private static GgufEntry detach(GgufEntry e, GgufArray a) {
        return new GgufEntry(e.key(), e.type(), GgufArray.copyOf(a), -1);
    }

    public Path directory() { return dir; }

    public HfConfig config() { return config; }

    public SafetensorsCheckpoint checkpoint() { return checkpoint; }

    public MetadataBuilder metadata() { return metadata; }

    public List<SourceTensor> tensors() { return tensors; }

    @Override
    public void close() {
        checkpoint.close();
    }
}
