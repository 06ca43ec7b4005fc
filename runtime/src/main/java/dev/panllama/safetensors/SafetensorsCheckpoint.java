package dev.panllama.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The safetensors weights of a Hugging Face model, one file or many: a directory with
 * {@code model.safetensors.index.json} (its {@code weight_map} names the shard of every tensor), or with
 * {@code model.safetensors}, or else with any {@code *.safetensors} files; or one file given directly.
 * All shards are mapped into one arena; closing the checkpoint unmaps them.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {
    public static final String INDEX = "model.safetensors.index.json";
    public static final String SINGLE = "model.safetensors";

    private final Arena arena;
    private final List<Path> files;
    private final Map<String, SafetensorsTensor> tensors;

    private SafetensorsCheckpoint(Arena arena, List<Path> files, Map<String, SafetensorsTensor> tensors) {
        this.arena = arena;
        this.files = List.copyOf(files);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    public static SafetensorsCheckpoint open(Path path) throws IOException {
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString(), null, "no such file or directory");
        Arena arena = Arena.ofShared();
        try {
            Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
            List<Path> files = new ArrayList<>();
            Path index = path.resolve(INDEX);
            if (Files.isDirectory(path) && Files.isRegularFile(index)) {
                Map<String, String> weightMap = readWeightMap(index);
                for (String shard : new java.util.LinkedHashSet<>(weightMap.values())) {
                    Path file = path.resolve(shard);
                    SafetensorsFile f = SafetensorsFile.open(file, arena);
                    files.add(file);
                    addAll(tensors, f);
                    for (String name : f.tensors().keySet()) {
                        if (!shard.equals(weightMap.get(name))) {
                            throw new SafetensorsFormatException(index, "weight_map", "does not list tensor '" + name + "' of " + shard);
                        }
                    }
                }
                for (Map.Entry<String, String> e : weightMap.entrySet()) {
                    if (!tensors.containsKey(e.getKey())) {
                        throw new SafetensorsFormatException(index, "weight_map." + e.getKey(), "shard " + e.getValue() + " has no such tensor");
                    }
                }
            } else {
                for (Path file : plainFiles(path)) {
                    files.add(file);
                    addAll(tensors, SafetensorsFile.open(file, arena));
                }
            }
            return new SafetensorsCheckpoint(arena, files, tensors);
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static List<Path> plainFiles(Path path) throws IOException {
        if (!Files.isDirectory(path)) return List.of(path);
        if (Files.isRegularFile(path.resolve(SINGLE))) return List.of(path.resolve(SINGLE));
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(path, "*.safetensors")) {
            for (Path p : ds) out.add(p);
        }
        if (out.isEmpty()) throw new NoSuchFileException(path.toString(), null, "no .safetensors files in this directory");
        Collections.sort(out);
        return out;
    }

    private static void addAll(Map<String, SafetensorsTensor> into, SafetensorsFile f) throws SafetensorsFormatException {
        for (SafetensorsTensor t : f.tensors().values()) {
            SafetensorsTensor prev = into.put(t.name(), t);
            if (prev != null) {
                throw new SafetensorsFormatException(f.path(), "tensor '" + t.name() + "'", "also present in " + prev.file().getFileName());
            }
        }
    }

    /** The index's weight map; shard names must be plain file names in the index's directory. */
    static Map<String, String> readWeightMap(Path index) throws IOException {
        JsonNode root;
        try {
            root = SafetensorsFile.JSON.readTree(Files.readAllBytes(index));
        } catch (JacksonException e) {
            throw new SafetensorsFormatException(index, "index", "invalid JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new SafetensorsFormatException(index, "weight_map", "missing or not a JSON object");
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            JsonNode v = e.getValue();
            String shard = v.isTextual() ? v.asText() : null;
            if (shard == null || shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals("..") || shard.equals(".")) {
                throw new SafetensorsFormatException(index, "weight_map." + e.getKey(), v + " is not a file name in " + index.getParent());
            }
            out.put(e.getKey(), shard);
        }
        if (out.isEmpty()) throw new SafetensorsFormatException(index, "weight_map", "is empty");
        return out;
    }

    /** The files read, in order. */
    public List<Path> files() { return files; }

    /** Tensor names in file order (shards in order). */
    public Set<String> names() { return tensors.keySet(); }

    public Map<String, SafetensorsTensor> tensors() { return tensors; }

    public Optional<SafetensorsTensor> find(String name) { return Optional.ofNullable(tensors.get(name)); }

    public SafetensorsTensor tensor(String name) {
        SafetensorsTensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException(files.getFirst().toAbsolutePath().getParent() + ": no tensor named '" + name + "'");
        return t;
    }

    public boolean has(String name) { return tensors.containsKey(name); }

    /** Total bytes of tensor data. */
    public long tensorBytes() {
        long n = 0;
        for (SafetensorsTensor t : tensors.values()) n += t.data().byteSize();
        return n;
    }

    @Override
    public void close() {
        arena.close();
    }
}
