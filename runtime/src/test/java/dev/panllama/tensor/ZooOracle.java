package dev.panllama.tensor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The llama.cpp "zoo" oracle (../shared/reference/zoo, README there): one model per tensor type made
 * by {@code llama-quantize --pure} from zoo-llama-f32.gguf, and gguf-py's dequantization statistics
 * of every tensor. Without ../shared the bundled subset under testdata/zoo is used (the stats file,
 * Q4_0 and Q8_0).
 */
final class ZooOracle {
    private ZooOracle() {}

    static final String STATS = "dequant-stats.json";
    static final String F32_MODEL = "zoo-llama-f32.gguf";

    static String modelFile(String typeName) {
        return "zoo-llama-" + typeName + ".gguf";
    }

    static Optional<Path> find(String fileName) {
        return TestFiles.findZoo(fileName);
    }

    static Path require(String fileName) {
        return TestFiles.requireZoo(fileName);
    }

    /** Type name -> tensor name -> {type, n, sum, sumsq, rmse_vs_f32, first8}. */
    static JsonNode stats() {
        Path p = find(STATS).orElseThrow(() -> new IllegalStateException("bundled testdata/zoo/" + STATS + " is missing"));
        try {
            return new ObjectMapper().readTree(p.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The type names the stats cover, in file order. */
    static List<String> typeNames() {
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : stats().properties()) names.add(e.getKey());
        return names;
    }

    /** The type by its stats-file name; skips the calling test when panllama has no codec for it yet. */
    static GgmlType requireCodec(String typeName) {
        GgmlType type = GgmlType.byName(typeName);
        if (type == null) throw new IllegalStateException(STATS + " names an unknown type " + typeName);
        if (!type.hasCodec()) {
            String reason = "no codec for " + typeName + " yet";
            System.out.println("SKIPPED: " + reason);
            Assumptions.abort(reason);
        }
        return type;
    }
}
