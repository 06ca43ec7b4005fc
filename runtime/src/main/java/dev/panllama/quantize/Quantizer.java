package dev.panllama.quantize;

import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufHeader;
import dev.panllama.gguf.GgufWriter;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.codec.BlockCodec;
import dev.panllama.tensor.Tensor;
import dev.panllama.util.ProgressListener;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Carries out a {@link QuantPlan}: writes the output GGUF tensor by tensor, each converted tensor
 * decoded row by row from the mapped input and encoded straight into its place in the mapped output,
 * chunks of rows at a time on a pool of threads. Nothing larger than a chunk's row buffer is held on
 * the heap. Metadata is copied as llama-quantize copies it: everything but the split keys, with
 * general.quantization_version and general.file_type (re)written at the end, then the imatrix keys.
 */
public final class Quantizer {
    private static final System.Logger LOG = System.getLogger("panllama.quantize");
    /** Elements per task: large enough to amortise scheduling, small enough to balance two threads. */
    private static final int CHUNK_ELEMENTS = 1 << 18;

    /** ggml's GGML_QNT_VERSION, which llama-quantize writes. */
    private static final int QUANTIZATION_VERSION = 2;

    private static final Set<String> REWRITTEN_KEYS = Set.of(
            "general.quantization_version", "general.file_type",
            MappedGguf.KEY_SPLIT_NO, MappedGguf.KEY_SPLIT_COUNT, MappedGguf.KEY_SPLIT_TENSORS);

    /** What a run produced. */
    public record Result(Path file, long bytesBefore, long bytesAfter, long fileBytes, double seconds) {}

    private final MappedGguf input;
    private final QuantPlan plan;
    private final int threads;
    private final ProgressListener progress;
    private final String task;
    private final long totalBytes;
    private long doneBytes;

    private Quantizer(MappedGguf input, QuantPlan plan, int threads, ProgressListener progress, String task) {
        this.input = input;
        this.plan = plan;
        this.threads = threads;
        this.progress = progress;
        this.task = task;
        this.totalBytes = plan.bytesBefore();
    }

    /**
     * Writes {@code out} from {@code input} as {@code plan} says.
     *
     * @param threads threads converting rows; the output is the same for any count
     */
    public static Result run(MappedGguf input, QuantPlan plan, Path out, int threads, ProgressListener progress) throws IOException {
        if (threads <= 0) throw new IllegalArgumentException("thread count must be positive, not " + threads);
        for (Path f : input.files()) {
            if (Files.exists(out) && Files.isSameFile(f, out)) throw new IllegalArgumentException("the output " + out + " is the input");
        }
        List<TensorPlan> requantized = plan.requantized();
        if (!requantized.isEmpty() && !plan.options().allowRequantize()) {
            TensorPlan first = requantized.getFirst();
            throw new IllegalArgumentException("requantizing from type " + first.from().ggmlName() + " is disabled (" + first.name()
                    + " and " + (requantized.size() - 1) + " more tensors); pass --allow-requantize to convert already quantized"
                    + " tensors (quality suffers compared with quantizing from 16 or 32 bits)");
        }
        for (TensorPlan t : plan.tensors()) {
            if (t.isCopy()) continue;
            if (!t.from().hasCodec()) {
                throw new IllegalArgumentException(t.name() + ": panllama cannot decode tensor type " + t.from().ggmlName());
            }
            if (!t.to().hasCodec() || !t.to().codec().canQuantize()) {
                throw new IllegalArgumentException(t.name() + ": panllama cannot quantize to " + t.to().ggmlName());
            }
        }
        long start = System.nanoTime();
        Quantizer q = new Quantizer(input, plan, threads, progress, "quantizing " + out.getFileName());
        q.write(out);
        return new Result(out, plan.bytesBefore(), plan.bytesAfter(), Files.size(out), (System.nanoTime() - start) / 1e9);
    }

    private void write(Path out) throws IOException {
        int alignment = input.metadata().getInt(GgufHeader.KEY_ALIGNMENT, GgufHeader.DEFAULT_ALIGNMENT);
        GgufWriter w = new GgufWriter(alignment);
        for (GgufEntry e : input.metadata().entries()) {
            if (!REWRITTEN_KEYS.contains(e.key())) w.copy(e);
        }
        w.putU32("general.quantization_version", QUANTIZATION_VERSION);
        w.putU32("general.file_type", plan.options().mix().fileType());
        ImportanceMatrix imatrix = plan.options().imatrix();
        if (imatrix != null) {
            w.putString("quantize.imatrix.file", imatrix.file().toString());
            if (!imatrix.datasets().isEmpty()) w.putString("quantize.imatrix.dataset", imatrix.datasets().getFirst());
            w.putU32("quantize.imatrix.entries_count", imatrix.entryCount());
            if (imatrix.chunkCount() > 0) w.putU32("quantize.imatrix.chunks_count", imatrix.chunkCount());
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "quantize-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            for (TensorPlan t : plan.tensors()) {
                Tensor source = input.tensor(t.name());
                w.addTensor(t.name(), t.to(), t.shape(), dst -> {
                    if (t.isCopy()) {
                        MemorySegment.copy(source.data(), 0, dst, 0, dst.byteSize());
                        reportDone(t.bytesBefore());
                    } else {
                        convert(pool, source, t, dst);
                    }
                });
            }
            w.write(out);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Decodes each row of {@code source} and encodes it as {@code plan.to()} into {@code dst}. Row-interleaved
     * types (ik_llama.cpp's _R4/_R8) are read through {@link Tensor#dequantizeRow} and written a whole group
     * of rows at a time, the only way their codecs can lay them out.
     */
    private void convert(ExecutorService pool, Tensor source, TensorPlan plan, MemorySegment dst) throws IOException {
        BlockCodec encoder = plan.to().codec();
        long[] shape = plan.shape();
        int ne0 = Math.toIntExact(shape[0]);
        long ne1 = shape.length > 1 ? shape[1] : 1;
        long ne2 = shape.length > 2 ? shape[2] : 1;
        long rows = plan.rows();
        long srcRowBytes = source.rowBytes();
        long dstRowBytes = plan.to().rowBytes(ne0);
        int group = plan.to().interleavedRows();
        if (rows % group != 0) {
            throw new IllegalArgumentException(plan.name() + ": " + rows + " rows do not fill " + plan.to() + "'s groups of " + group);
        }
        // A row-interleaved group takes one importance vector for its rows, so its rows must share an expert.
        boolean groupsShareImportance = group == 1 || ne1 % group == 0;
        float[] importance = groupsShareImportance ? plan.importance() : null;
        if (!groupsShareImportance && plan.importance() != null) {
            LOG.log(System.Logger.Level.WARNING, plan.name() + ": the importance matrix is not applied: groups of " + group
                    + " interleaved rows would straddle experts");
        }
        int chunkRows = Math.max(group, CHUNK_ELEMENTS / ne0 / group * group);
        List<Future<?>> tasks = new ArrayList<>();
        for (long first = 0; first < rows; first += chunkRows) {
            long begin = first;
            long end = Math.min(rows, first + chunkRows);
            tasks.add(pool.submit(() -> {
                float[] block = new float[group * ne0];
                for (long r = begin; r < end; r += group) {
                    for (int g = 0; g < group; g++) source.dequantizeRow(r + g, block, g * ne0);
                    // An expert tensor [ne0, ne1, experts] has one importance vector per expert; a group of
                    // interleaved rows (ik_llama.cpp's _R4/_R8) is encoded whole, each row with that vector.
                    int impOff = (int) (((r / ne1) % ne2) * ne0);
                    encoder.quantizeRow(block, 0, importance, impOff, dst, r * dstRowBytes, group * ne0);
                }
                reportDone((end - begin) * srcRowBytes);
            }));
        }
        try {
            for (Future<?> f : tasks) f.get();
        } catch (InterruptedException e) {
            tasks.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while quantizing " + plan.name(), e);
        } catch (ExecutionException e) {
            tasks.forEach(f -> f.cancel(true));
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) throw re;
            if (cause instanceof Error err) throw err;
            throw new IOException("quantizing " + plan.name() + ": " + cause.getMessage(), cause);
        }
    }

    /** Under a lock so that the listener sees a monotonic count and its final call is the last one. */
    private synchronized void reportDone(long bytes) {
        doneBytes += bytes;
        progress.update(task, doneBytes, totalBytes);
    }
}
