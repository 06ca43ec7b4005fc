package dev.panllama.gguf;

import dev.panllama.tensor.Tensor;
import dev.panllama.util.NativeMemory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A GGUF model opened as memory: each file is mapped with {@link FileChannel#map} into a segment owned
 * by this object's {@link Arena}, and every tensor is a zero-copy slice of it. A split model
 * ({@code name-00001-of-00003.gguf} with {@code split.*} keys) opens as one: its metadata is the first
 * part's, its tensors the union of all parts'. Closing unmaps everything; tensors must not be used after.
 */
public final class MappedGguf implements TensorSource {
    private static final System.Logger LOG = System.getLogger("panllama.gguf");
    public static final String KEY_SPLIT_NO = "split.no";
    public static final String KEY_SPLIT_COUNT = "split.count";
    public static final String KEY_SPLIT_TENSORS = "split.tensors.count";
    private static final Pattern SPLIT_NAME = Pattern.compile("^(.*)-(\\d{5})-of-(\\d{5})\\.gguf$");

    private final Arena arena;
    private final List<Path> files;
    private final List<GgufHeader> headers;
    private final Map<String, Tensor> tensors;
    private final boolean mapped;
    private final List<MappedFiles.Registration> registrations;

    private MappedGguf(Arena arena, List<Path> files, List<GgufHeader> headers, Map<String, Tensor> tensors, boolean mapped) {
        this.arena = arena;
        this.files = List.copyOf(files);
        this.headers = List.copyOf(headers);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.mapped = mapped;
        // So that a read fault can name the file if one is truncated while in use (MappedFiles).
        this.registrations = mapped ? files.stream().map(f -> MappedFiles.register(f, f.toFile().length())).toList() : List.of();
    }

    public static MappedGguf open(Path path) throws IOException {
        return open(path, GgufLoadOptions.INSPECT);
    }

    /** Opens a GGUF file, or all parts of a split model when given any one part. */
    public static MappedGguf open(Path path, GgufLoadOptions options) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            List<Path> files = new ArrayList<>();
            List<GgufHeader> headers = new ArrayList<>();
            List<MemorySegment> segments = new ArrayList<>();

            MemorySegment first = load(path, options, arena);
            GgufHeader firstHeader = GgufParser.parse(first, path.toString());
            int splitCount = firstHeader.metadata().getInt(KEY_SPLIT_COUNT, 1);
            if (splitCount <= 1) {
                files.add(path);
                headers.add(firstHeader);
                segments.add(first);
            } else {
                List<Path> parts = splitParts(path, splitCount);
                for (int i = 0; i < parts.size(); i++) {
                    Path p = parts.get(i);
                    MemorySegment seg = p.equals(path) ? first : load(p, options, arena);
                    GgufHeader h = p.equals(path) ? firstHeader : GgufParser.parse(seg, p.toString());
                    int no = h.metadata().getInt(KEY_SPLIT_NO, -1);
                    if (no != i) {
                        throw new GgufFormatException(p.toString(), "is split part " + no + " (split.no), expected part " + i
                                + " of " + splitCount);
                    }
                    files.add(p);
                    headers.add(h);
                    segments.add(seg);
                }
            }

            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (int i = 0; i < headers.size(); i++) {
                GgufHeader h = headers.get(i);
                for (GgufTensorInfo t : h.tensors()) {
                    MemorySegment slice = segments.get(i).asSlice(h.dataOffset() + t.dataOffset(), t.byteSize());
                    if (tensors.put(t.name(), new Tensor(t.name(), t.type(), t.shape(), slice)) != null) {
                        throw new GgufFormatException(files.get(i).toString(), t.infoOffset(), "tensor " + GgufCursor.quote(t.name()) + ".name",
                                "tensor also present in an earlier split part");
                    }
                }
            }
            if (splitCount > 1) {
                int expected = headers.get(0).metadata().getInt(KEY_SPLIT_TENSORS, tensors.size());
                if (expected != tensors.size()) {
                    throw new GgufFormatException(path.toString(), "split model declares " + expected
                            + " tensors (split.tensors.count) but its " + splitCount + " parts hold " + tensors.size());
                }
            }
            return new MappedGguf(arena, files, headers, tensors, options.mmap());
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            if (e instanceof GgufMetadata.MetadataException m) {
                throw new GgufFormatException(path.toString(), m.getMessage());
            }
            throw e;
        }
    }

    private static MemorySegment load(Path path, GgufLoadOptions options, Arena arena) throws IOException {
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString(), null, "no such file");
        if (Files.isDirectory(path)) throw new IOException(path + ": is a directory, not a GGUF file");
        MemorySegment seg;
        if (options.mmap()) {
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
            String err = NativeMemory.advise(seg, adviceFor(seg.byteSize(), options.advice()));
            if (err != null) LOG.log(System.Logger.Level.WARNING, path + ": " + err);
        } else {
            seg = NativeMemory.readFile(path, Files.size(path), arena, options.progress());
        }
        if (options.mlock()) {
            String err = NativeMemory.lock(seg);
            if (err != null) LOG.log(System.Logger.Level.WARNING, path + ": " + err);
        }
        return seg;
    }

    /**
     * Read-ahead of a file that does not fit in memory only evicts its own pages (a DeepSeek-V3 larger
     * than RAM, served through mmap): beyond half the machine's memory, WILLNEED becomes NORMAL.
     */
    static NativeMemory.Advice adviceFor(long fileSize, NativeMemory.Advice wanted) {
        // --numa (llama.cpp's llama_mmap): no read-ahead, so each page is read first by a thread on the node that uses it
        if (wanted != NativeMemory.Advice.NONE && dev.panllama.util.Numa.strategy() != dev.panllama.util.Numa.Strategy.DISABLED) {
            return NativeMemory.Advice.RANDOM;
        }
        long ram = NativeMemory.physicalMemory();
        if (wanted == NativeMemory.Advice.WILLNEED && ram > 0 && fileSize > ram / 2) return NativeMemory.Advice.NORMAL;
        return wanted;
    }

    /** The paths of all parts of the split model that {@code path} belongs to, in order. */
    static List<Path> splitParts(Path path, int count) throws GgufFormatException {
        String name = path.getFileName().toString();
        Matcher m = SPLIT_NAME.matcher(name);
        if (!m.matches()) {
            throw new GgufFormatException(path.toString(), "declares split.count " + count
                    + " but its name does not follow PREFIX-00001-of-" + String.format("%05d", count) + ".gguf");
        }
        int declared = Integer.parseInt(m.group(3));
        if (declared != count) {
            throw new GgufFormatException(path.toString(), "file name says " + declared + " parts, split.count says " + count);
        }
        List<Path> parts = new ArrayList<>(count);
        for (int i = 1; i <= count; i++) {
            parts.add(path.resolveSibling(splitFileName(m.group(1), i, count)));
        }
        return parts;
    }

    /** llama.cpp's split naming: {@code PREFIX-%05d-of-%05d.gguf}, parts numbered from 1. */
    public static String splitFileName(String prefix, int part, int count) {
        return String.format("%s-%05d-of-%05d.gguf", prefix, part, count);
    }

    @Override
    public String displayName() { return files.get(0).getFileName().toString(); }

    /** Metadata of the model (of the first part for a split model). */
    @Override
    public GgufMetadata metadata() { return headers.get(0).metadata(); }

    public GgufHeader header() { return headers.get(0); }

    public List<GgufHeader> headers() { return headers; }

    public List<Path> files() { return files; }

    /** All tensors in file order (parts in order). */
    @Override
    public List<Tensor> tensors() { return List.copyOf(tensors.values()); }

    @Override
    public Optional<Tensor> findTensor(String name) { return Optional.ofNullable(tensors.get(name)); }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException(files.get(0) + ": no tensor named '" + name + "'");
        return t;
    }

    @Override
    public boolean hasTensor(String name) { return tensors.containsKey(name); }

    public int tensorCount() { return tensors.size(); }

    /** Whether the weights are mapped from the file (false under --no-mmap). */
    public boolean isMapped() { return mapped; }

    /** Total bytes of tensor data. */
    public long tensorBytes() {
        long n = 0;
        for (Tensor t : tensors.values()) n += t.byteSize();
        return n;
    }

    public long parameterCount() {
        long n = 0;
        for (Tensor t : tensors.values()) n += t.elementCount();
        return n;
    }

    @Override
    public void close() {
        registrations.forEach(MappedFiles.Registration::close);
        arena.close();
    }
}
