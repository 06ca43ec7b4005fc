package dev.panllama.cli;

import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufHeader;
import dev.panllama.gguf.GgufValueType;
import dev.panllama.gguf.GgufWriter;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code panllama gguf-split} (llama-gguf-split): a GGUF into parts of at most N tensors or N bytes,
 * named {@code OUT-00001-of-0000K.gguf}, the model's metadata in the first and the {@code split.*} keys
 * in each, as llama.cpp writes them (so that llama.cpp and panllama load the first part as the model);
 * or, with {@code --merge}, the parts back into one file. Tensor data is copied as stored.
 */
@Command(name = "gguf-split", mixinStandardHelpOptions = true,
        description = "Split a GGUF file into parts, or merge the parts back (like llama-gguf-split).")
final class GgufSplitCommand extends ToolCommand {
    @Option(names = "--split", description = "Split IN into parts named OUT-00001-of-0000K.gguf (the default)")
    boolean split;

    @Option(names = "--merge", description = "Merge the parts of which IN is one into the file OUT")
    boolean merge;

    @Option(names = "--split-max-tensors", paramLabel = "N", defaultValue = "128", description = "Tensors per part (default: ${DEFAULT-VALUE})")
    int maxTensors;

    @Option(names = "--split-max-size", paramLabel = "N(M|G)", description = "Bytes per part instead, e.g. 500M or 2G (llama.cpp's: M = 10^6, G = 10^9)")
    String maxSize;

    @Option(names = "--no-tensor-first-split", description = "Put no tensor in the first part (only the metadata)")
    boolean noTensorFirstSplit;

    @Option(names = "--dry-run", description = "Print the parts, write nothing")
    boolean dryRun;

    @Parameters(index = "0", paramLabel = "IN", description = "The GGUF file (with --merge: any part)")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "The parts' name prefix (with --merge: the merged file)")
    Path output;

    private static final List<String> SPLIT_KEYS = List.of(MappedGguf.KEY_SPLIT_NO, MappedGguf.KEY_SPLIT_COUNT, MappedGguf.KEY_SPLIT_TENSORS);

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        if (split && merge) throw new IllegalArgumentException("--split and --merge: give one of them");
        if (maxTensors < 1) throw new IllegalArgumentException("--split-max-tensors " + maxTensors + ": must be at least 1");
        long maxBytes = maxSize == null ? 0 : parseSize(maxSize);
        CliFiles.requireInput(in, "a GGUF file", false);
        if (!dryRun) CliFiles.requireReplaceableOutput(output);      // before any part is written
        try (MappedGguf g = MappedGguf.open(in)) {
            int alignment = g.metadata().getInt(GgufHeader.KEY_ALIGNMENT, GgufHeader.DEFAULT_ALIGNMENT);
            if (merge) {
                GgufWriter w = metadata(new GgufWriter(alignment), g);
                for (Tensor t : g.tensors()) w.addTensor(t.name(), t.type(), t.shape(), t.data());
                err.printf(Locale.ROOT, "gguf-split: merging %d part(s), %d tensors, into %s%n", g.files().size(), g.tensors().size(), output);
                err.flush();
                if (!dryRun) w.write(output, ProgressBar.onTerminal(err, ProgressBar.Units.BYTES));
                return 0;
            }
            List<List<Tensor>> parts = plan(g.tensors(), alignment, maxBytes);
            String prefix = output.toString().endsWith(".gguf") ? output.toString().substring(0, output.toString().length() - 5) : output.toString();
            for (int p = 0; p < parts.size(); p++) {
                Path file = Path.of(MappedGguf.splitFileName(prefix, p + 1, parts.size()));
                long bytes = parts.get(p).stream().mapToLong(t -> alignUp(t.byteSize(), alignment)).sum();
                err.printf(Locale.ROOT, "gguf-split: %s: %d tensors, %.2f MiB%n", file, parts.get(p).size(), bytes / 1048576.0);
                err.flush();
                if (dryRun) continue;
                GgufWriter w = new GgufWriter(alignment);
                if (p == 0) metadata(w, g);
                w.put(MappedGguf.KEY_SPLIT_NO, GgufValueType.UINT16, (long) p);
                w.put(MappedGguf.KEY_SPLIT_COUNT, GgufValueType.UINT16, (long) parts.size());
                w.put(MappedGguf.KEY_SPLIT_TENSORS, GgufValueType.INT32, (long) g.tensors().size());
                for (Tensor t : parts.get(p)) w.addTensor(t.name(), t.type(), t.shape(), t.data());
                w.write(file);
            }
        }
        return 0;
    }

    /** The model's metadata, without another split's keys or the alignment (the writer sets that). */
    private static GgufWriter metadata(GgufWriter w, MappedGguf g) {
        for (GgufEntry e : g.metadata().entries()) {
            if (SPLIT_KEYS.contains(e.key()) || e.key().equals(GgufHeader.KEY_ALIGNMENT)) continue;
            w.copy(e);
        }
        return w;
    }

    /** Tensors in file order, a new part when the current one is full (by count, or by size when given). */
    private List<List<Tensor>> plan(List<Tensor> tensors, int alignment, long maxBytes) {
        List<List<Tensor>> parts = new ArrayList<>();
        if (noTensorFirstSplit) parts.add(new ArrayList<>());
        List<Tensor> current = new ArrayList<>();
        long size = 0;
        for (Tensor t : tensors) {
            long bytes = alignUp(t.byteSize(), alignment);
            boolean full = maxBytes > 0 ? !current.isEmpty() && size + bytes > maxBytes : current.size() >= maxTensors;
            if (full) {
                parts.add(current);
                current = new ArrayList<>();
                size = 0;
            }
            current.add(t);
            size += bytes;
        }
        if (!current.isEmpty() || parts.isEmpty()) parts.add(current);
        if (parts.size() > 99_999) throw new IllegalArgumentException("that would make " + parts.size() + " parts; at most 99999");
        return parts;
    }

    private static long alignUp(long x, long alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    /** llama.cpp's split sizes: a number and M (10^6 bytes) or G (10^9). */
    static long parseSize(String s) {
        var m = java.util.regex.Pattern.compile("(\\d+)([MG])").matcher(s.strip());
        if (!m.matches()) throw new IllegalArgumentException("--split-max-size " + s + ": must be a number and M or G, e.g. 500M or 2G");
        long n = Long.parseLong(m.group(1));
        long bytes = n * (m.group(2).equals("G") ? 1_000_000_000L : 1_000_000L);
        if (bytes <= 0) throw new IllegalArgumentException("--split-max-size " + s + ": must be positive");
        return bytes;
    }
}
