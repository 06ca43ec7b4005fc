package dev.panllama.model.synth;

import dev.panllama.gguf.GgufArray;
import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufWriter;
import dev.panllama.gguf.LlamaFileType;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.GgmlType;
import dev.panllama.util.ProgressListener;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;
import java.util.function.ObjIntConsumer;

/**
 * The GGUF writing every synthetic architecture shares: hyper-parameters, the tokenizer copied from
 * another GGUF, then the planned tensors filled with random values ({@link RandomTensorWriter}).
 */
final class SyntheticWriter {
    private SyntheticWriter() {}

    /**
     * @param hyperParameters writes the architecture's keys, given the vocabulary size
     * @param plan            the tensors in file order, given the vocabulary size
     */
    static SyntheticModel.Summary write(Path out, Path vocabFrom, long seed, int threads, ProgressListener progress,
                                        ObjIntConsumer<GgufWriter> hyperParameters, IntFunction<List<PlannedTensor>> plan)
            throws IOException {
        long start = System.nanoTime();
        try (MappedGguf vocab = MappedGguf.open(vocabFrom)) {
            if (!(vocab.metadata().entry("tokenizer.ggml.tokens").map(GgufEntry::value).orElse(null) instanceof GgufArray tokens)) {
                throw new IllegalArgumentException(vocabFrom + ": no tokenizer.ggml.tokens array to take the vocabulary from");
            }
            int vocabSize = Math.toIntExact(tokens.size());
            GgufWriter w = new GgufWriter();
            hyperParameters.accept(w, vocabSize);
            for (GgufEntry e : vocab.metadata().entries()) {
                if (e.key().startsWith("tokenizer.")) w.copy(e);
            }
            List<PlannedTensor> tensors = plan.apply(vocabSize);
            long params = 0;
            long bytes = 0;
            for (PlannedTensor p : tensors) {
                params += p.elements();
                bytes += p.bytes();
            }
            try (RandomTensorWriter rows = new RandomTensorWriter(seed, threads, progress, "writing " + out.getFileName(), bytes)) {
                for (PlannedTensor p : tensors) {
                    int ne0 = Math.toIntExact(p.shape()[0]);
                    w.addTensor(p.name(), p.type(), p.shape(), dst -> rows.write(p.name(), dst, p.type(), ne0,
                            p.norm() ? 1f : 0f, p.norm() ? SyntheticModel.NORM_NOISE : SyntheticModel.WEIGHT_STD));
                }
                w.write(out);
            }
            return new SyntheticModel.Summary(out, params, bytes, Files.size(out), (System.nanoTime() - start) / 1e9);
        }
    }

    /**
     * The keys every synthetic architecture writes first, as convert_hf_to_gguf.py does: general.*, then
     * the shape every llama.cpp architecture has ({@code arch.context_length} ... {@code arch.attention.layer_norm_rms_epsilon}).
     */
    static void putCommonKeys(GgufWriter w, String arch, long seed, int vocabSize, int contextLength, int embedding, int blocks,
                              int feedForward, int heads, int headsKv, float ropeFreqBase, float rmsEps) {
        String p = arch + ".";
        w.putString("general.architecture", arch);
        w.putString("general.name", "synthetic-" + arch);
        w.putString("general.description", String.format(Locale.ROOT,
                "random weights (panllama synth, seed %d, std %.2f); for speed measurements only", seed, SyntheticModel.WEIGHT_STD));
        w.putU32(p + "vocab_size", vocabSize);
        w.putU32(p + "context_length", contextLength);
        w.putU32(p + "embedding_length", embedding);
        w.putU32(p + "block_count", blocks);
        w.putU32(p + "feed_forward_length", feedForward);
        w.putU32(p + "attention.head_count", heads);
        w.putU32(p + "attention.head_count_kv", headsKv);
        w.putF32(p + "rope.freq_base", ropeFreqBase);
        w.putF32(p + "attention.layer_norm_rms_epsilon", rmsEps);
    }

    /** The keys written last: llama.cpp's quantization version and the file type of {@code type}. */
    static void putFileType(GgufWriter w, GgmlType type) {
        w.putU32("general.quantization_version", 2);
        w.putU32("general.file_type", LlamaFileType.of(type));
    }

    static long parameterCount(List<PlannedTensor> plan) {
        long n = 0;
        for (PlannedTensor p : plan) n += p.elements();
        return n;
    }
}
