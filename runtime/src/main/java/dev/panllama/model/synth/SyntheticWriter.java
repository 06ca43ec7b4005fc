package dev.panllama.model.synth;

import dev.panllama.gguf.GgufArray;
import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufWriter;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.util.ProgressListener;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    static long parameterCount(List<PlannedTensor> plan) {
        long n = 0;
        for (PlannedTensor p : plan) n += p.elements();
        return n;
    }
}
