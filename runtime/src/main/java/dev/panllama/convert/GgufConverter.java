package dev.panllama.convert;

import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufWriter;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.gguf.LlamaFileType;
import dev.panllama.tensor.GgmlType;
import dev.panllama.util.ProgressListener;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code panllama convert}: a Hugging Face model directory, or an FP8 GGUF, to a GGUF of the chosen
 * {@link OutType}. Tensors stream one by one from the mapped input into the mapped output, each encoded
 * on a pool of threads, so the heap never holds more than a few rows.
 */
public final class GgufConverter {
    private GgufConverter() {}

    /** What {@link #convert} wrote. */
    public record Summary(Path file, int tensors, long tensorBytes, long fileBytes, Map<GgmlType, Integer> types, double seconds) {}

    /**
     * @param input     a Hugging Face model directory or a GGUF file (FP8 or not)
     * @param vocabFrom for a directory: take the tokenizer from this GGUF instead of tokenizer.json; may be null
     */
    public static Summary convert(Path input, Path out, OutType outType, Path vocabFrom, int threads, ProgressListener progress)
            throws IOException {
        long start = System.nanoTime();
        if (Files.isDirectory(input)) {
            if (!HfModel.isModelDirectory(input)) throw new IOException(input + ": not a Hugging Face model directory (no config.json)");
            try (HfModel hf = HfModel.open(input, vocabFrom)) {
                MetadataBuilder md = hf.metadata();
                Fp8Config fp8 = hf.config().fp8();
                if (outType == OutType.FP8 && fp8 != null && fp8.blockRows() > 0) {
                    md.putArray(Fp8Gguf.BLOCK_KEY, dev.panllama.gguf.GgufValueType.UINT32, new int[]{fp8.blockRows(), fp8.blockCols()});
                }
                return write(md, hf.tensors(), out, outType, threads, progress, start);
            }
        }
        if (vocabFrom != null) throw new IllegalArgumentException("--vocab-from applies to Hugging Face directories, not to GGUF input");
        try (MappedGguf gguf = MappedGguf.open(input)) {
            MetadataBuilder md = new MetadataBuilder();
            for (GgufEntry e : gguf.metadata().entries()) {
                if (e.key().equals(Fp8Gguf.BLOCK_KEY) && outType != OutType.FP8) continue;
                if (!e.key().equals("general.file_type") && !e.key().equals("general.quantization_version")) md.copy(e);
            }
            return write(md, Fp8Gguf.tensors(gguf), out, outType, threads, progress, start);
        }
    }

    private static Summary write(MetadataBuilder md, List<SourceTensor> sources, Path out, OutType outType, int threads,
                                 ProgressListener progress, long start) throws IOException {
        List<OutputTensor> plan = OutputTensor.plan(sources, outType);
        md.putU32("general.quantization_version", 2);
        // llama.cpp has no file type for FP8 GGUFs, which are panllama's own.
        if (outType != OutType.FP8) md.putU32("general.file_type", LlamaFileType.of(outType.matrixType()));
        GgufWriter w = new GgufWriter();
        md.writeTo(w);
        long total = 0;
        Map<GgmlType, Integer> types = new TreeMap<>();
        for (OutputTensor t : plan) {
            total += t.byteSize();
            types.merge(t.type(), 1, Integer::sum);
        }
        try (RowEncoder enc = new RowEncoder(threads, progress, "writing " + out.getFileName(), total)) {
            for (OutputTensor t : plan) w.addTensor(t.name(), t.type(), t.shape(), dst -> t.produce(dst, enc));
            w.write(out);
        }
        return new Summary(out, plan.size(), total, Files.size(out), types, (System.nanoTime() - start) / 1e9);
    }
}
