package dev.panllama.convert;

import dev.panllama.gguf.GgufMetadata;
import dev.panllama.gguf.TensorSource;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import dev.panllama.util.ProgressListener;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model converted as it loads: FP8 weights become Q8_0 with their scales folded in (decode E4M3,
 * multiply by the tile's scale, quantize each 32-value block with the Q8_0 codec), so the model runs
 * on the ordinary Q8_0 kernels; tensors that need permuting or stacking are re-encoded in their
 * lossless float type; everything else stays a zero-copy view of the mapped input. The converted
 * tensors live in memory this source owns, filled tensor by tensor on a pool of threads.
 */
public final class ConvertedSource implements TensorSource {
    private final String displayName;
    private final GgufMetadata metadata;
    private final Map<String, Tensor> tensors;
    private final Arena arena;
    private final AutoCloseable input;

    private ConvertedSource(String displayName, GgufMetadata metadata, Map<String, Tensor> tensors, Arena arena, AutoCloseable input) {
        this.displayName = displayName;
        this.metadata = metadata;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.arena = arena;
        this.input = input;
    }

    /**
     * Converts {@code sources} read from {@code input}, which stays open (zero-copy tensors view it) until
     * this source is closed; on failure it is closed here.
     */
    public static ConvertedSource load(String displayName, GgufMetadata metadata, List<SourceTensor> sources,
                                       AutoCloseable input, int threads, ProgressListener progress) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            List<GgmlType> types = new ArrayList<>();
            long total = 0;
            for (SourceTensor s : sources) {
                GgmlType t = OutType.loadTypeFor(s);
                types.add(t);
                if (!(s.asIs() != null && s.asIs().type() == t)) total += t.rowBytes(s.ne0()) * (s.elementCount() / s.ne0());
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            try (RowEncoder enc = new RowEncoder(threads, progress, "converting " + displayName, total)) {
                for (int i = 0; i < sources.size(); i++) {
                    SourceTensor s = sources.get(i);
                    GgmlType t = types.get(i);
                    Tensor tensor;
                    if (s.asIs() != null && s.asIs().type() == t) {
                        tensor = s.asIs();
                    } else {
                        long bytes = t.rowBytes(s.ne0()) * (s.elementCount() / s.ne0());
                        MemorySegment mem = arena.allocate(Math.max(bytes, 1), 64).asSlice(0, bytes);
                        enc.encode(s.name(), s.rows(), t, mem);
                        tensor = new Tensor(s.name(), t, s.shape(), mem);
                    }
                    out.put(s.name(), tensor);
                }
            }
            return new ConvertedSource(displayName, metadata, out, arena, input);
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            closeQuietly(input, e);
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable c, Throwable failure) {
        try {
            c.close();
        } catch (Exception e) {
            failure.addSuppressed(e);
        }
    }

    @Override
    public String displayName() { return displayName; }

    @Override
    public GgufMetadata metadata() { return metadata; }

    @Override
    public List<Tensor> tensors() { return List.copyOf(tensors.values()); }

    @Override
    public Optional<Tensor> findTensor(String name) { return Optional.ofNullable(tensors.get(name)); }

    @Override
    public void close() {
        arena.close();
        try {
            input.close();
        } catch (Exception e) {
            throw new IllegalStateException(displayName + ": closing the input failed: " + e.getMessage(), e);
        }
    }
}
