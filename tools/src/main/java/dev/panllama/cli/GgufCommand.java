package dev.panllama.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panllama.gguf.GgufArray;
import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufHeader;
import dev.panllama.gguf.GgufTensorInfo;
import dev.panllama.gguf.GgufValueType;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code panllama gguf FILE}: what gguf_dump prints, plus sizes, totals and tensor values. */
@Command(name = "gguf", mixinStandardHelpOptions = true,
        description = {"Print a GGUF file's metadata and tensor table (like gguf_dump), or a tensor's values.",
                "Any part of a split model opens the whole model."})
final class GgufCommand extends ToolCommand {

    @Parameters(index = "0", paramLabel = "FILE", arity = "0..1",
            description = "GGUF file (default: the bundled stories260K.gguf)")
    Path file;

    @Option(names = "--json", description = "Print JSON for scripts instead of text")
    boolean json;

    @Option(names = "--json-array", description = "With --json, include every element of long arrays")
    boolean jsonArray;

    @Option(names = "--no-tensors", description = "Print metadata only")
    boolean noTensors;

    @Option(names = "--max-array", paramLabel = "N", defaultValue = "8",
            description = "Array elements shown before '...' (default: ${DEFAULT-VALUE})")
    int maxArray;

    @Option(names = "--tensor", paramLabel = "NAME", description = "Print values of this tensor instead")
    String tensorName;

    @Option(names = "--values", paramLabel = "N", defaultValue = "16",
            description = "With --tensor: how many leading values to print, one per line (default: ${DEFAULT-VALUE})")
    int values;

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        Path path = file != null ? file : BundledModel.path();
        if (maxArray < 0) throw new IllegalArgumentException("--max-array " + maxArray + ": must be 0 or more");
        if (values < 0) throw new IllegalArgumentException("--values " + values + ": must be 0 or more");
        CliFiles.requireInput(path, "a GGUF file", false);
        try (MappedGguf gguf = MappedGguf.open(path)) {
            if (tensorName != null) {
                Tensor t = gguf.tensor(tensorName);
                for (float v : t.firstValues(values)) out.println(v);
            } else if (json) {
                printJson(gguf, out);
            } else {
                printText(gguf, out);
            }
        }
        out.flush();
        return 0;
    }

    private void printText(MappedGguf gguf, PrintWriter out) {
        for (int f = 0; f < gguf.files().size(); f++) {
            GgufHeader h = gguf.headers().get(f);
            out.printf("* %s: GGUF v%d, %,d bytes, %d tensors, %d key/value pairs, alignment %d, data at byte %d%n",
                    gguf.files().get(f), h.version(), h.fileSize(), h.tensors().size(), h.metadata().size(),
                    h.alignment(), h.dataOffset());
        }
        GgufHeader h = gguf.header();
        out.printf("* Dumping %d key/value pair(s)%n", h.metadata().size());
        int i = 0;
        for (GgufEntry e : h.metadata().entries()) {
            String type = e.value() instanceof GgufArray a ? "[" + a.elementType() + "]" : e.type().toString();
            long count = e.value() instanceof GgufArray a ? a.size() : 1;
            out.printf("%6d: %-10s | %8d | %s = %s%n", ++i, type, count, e.key(), textValue(e));
        }
        if (noTensors) return;
        out.printf("* Dumping %d tensor(s)%n", gguf.tensorCount());
        out.printf("%6s  %-40s %-8s %-24s %14s %14s%n", "#", "name", "type", "shape", "bytes", "offset");
        int n = 0;
        for (int f = 0; f < gguf.headers().size(); f++) {
            GgufHeader fh = gguf.headers().get(f);
            for (GgufTensorInfo t : fh.tensors()) {
                out.printf("%6d: %-40s %-8s %-24s %,14d %14d%s%n", ++n, t.name(), t.type(), t.shapeString(), t.byteSize(),
                        fh.dataOffset() + t.dataOffset(), gguf.files().size() > 1 ? "  (part " + (f + 1) + ")" : "");
            }
        }
        long params = gguf.parameterCount();
        long bytes = gguf.tensorBytes();
        out.printf("* Totals: %,d parameters (%s), %,d bytes of tensor data (%s), %.2f bits per weight%n",
                params, humanCount(params), bytes, humanBytes(bytes), params == 0 ? 0.0 : 8.0 * bytes / params);
    }

    private String textValue(GgufEntry e) {
        if (!(e.value() instanceof GgufArray a)) return e.displayValue();
        List<String> shown = arrayPreview(a, maxArray);
        return "[" + String.join(", ", shown) + (a.size() > shown.size() ? ", ...]" : "]");
    }

    private static List<String> arrayPreview(GgufArray a, int max) {
        int n = (int) Math.min(a.size(), Math.max(0, max));
        List<String> out = new ArrayList<>(n);
        switch (a.elementType()) {
            case STRING -> {
                for (String s : a.firstStrings(n)) out.add("'" + s + "'");
            }
            case ARRAY -> {
                GgufArray[] inner = a.arrays();
                for (int i = 0; i < n; i++) out.add(inner[i].toString());
            }
            case FLOAT32, FLOAT64 -> {
                for (int i = 0; i < n; i++) out.add(a.elementType() == GgufValueType.FLOAT32
                        ? Float.toString((float) a.getDouble(i)) : Double.toString(a.getDouble(i)));
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) out.add(Boolean.toString(a.getBool(i)));
            }
            case UINT64 -> {
                for (int i = 0; i < n; i++) out.add(Long.toUnsignedString(a.getLong(i)));
            }
            default -> {
                for (int i = 0; i < n; i++) out.add(Long.toString(a.getLong(i)));
            }
        }
        return out;
    }

    private void printJson(MappedGguf gguf, PrintWriter out) throws Exception {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        ArrayNode files = root.putArray("files");
        for (int f = 0; f < gguf.files().size(); f++) {
            GgufHeader h = gguf.headers().get(f);
            files.addObject().put("path", gguf.files().get(f).toString()).put("version", h.version())
                    .put("size", h.fileSize()).put("alignment", h.alignment()).put("data_offset", h.dataOffset());
        }
        ArrayNode meta = root.putArray("metadata");
        for (GgufEntry e : gguf.metadata().entries()) {
            ObjectNode kv = meta.addObject().put("key", e.key()).put("type", e.type().toString());
            switch (e.value()) {
                case GgufArray a -> {
                    kv.put("element_type", a.elementType().toString()).put("count", a.size());
                    int n = jsonArray ? (int) Math.min(a.size(), Integer.MAX_VALUE - 8) : maxArray;
                    ArrayNode vals = jsonValues(kv.putArray("values"), a, n);
                    kv.put("truncated", vals.size() < a.size());
                }
                case String s -> kv.put("value", s);
                case Boolean b -> kv.put("value", b);
                case Float v -> kv.put("value", v);
                case Double v -> kv.put("value", v);
                case Long v when e.type() == GgufValueType.UINT64 && v < 0 -> kv.put("value", new java.math.BigInteger(Long.toUnsignedString(v)));
                case Long v -> kv.put("value", v);
                default -> kv.put("value", String.valueOf(e.value()));
            }
        }
        if (!noTensors) {
            ArrayNode tensors = root.putArray("tensors");
            for (int f = 0; f < gguf.headers().size(); f++) {
                GgufHeader h = gguf.headers().get(f);
                for (GgufTensorInfo t : h.tensors()) {
                    ObjectNode o = tensors.addObject().put("name", t.name()).put("type", t.type().name());
                    ArrayNode shape = o.putArray("shape");
                    for (long d : t.shape()) shape.add(d);
                    o.put("bytes", t.byteSize()).put("offset", h.dataOffset() + t.dataOffset()).put("part", f + 1);
                }
            }
        }
        long params = gguf.parameterCount();
        long bytes = gguf.tensorBytes();
        root.putObject("totals").put("tensors", gguf.tensorCount()).put("parameters", params).put("bytes", bytes)
                .put("bits_per_weight", params == 0 ? 0.0 : 8.0 * bytes / params);
        out.println(mapper.writeValueAsString(root));
    }

    private static ArrayNode jsonValues(ArrayNode vals, GgufArray a, int max) {
        int n = (int) Math.min(a.size(), Math.max(0, max));
        switch (a.elementType()) {
            case STRING -> {
                for (String s : a.firstStrings(n)) vals.add(s);
            }
            case ARRAY -> {
                GgufArray[] inner = a.arrays();
                for (int i = 0; i < n; i++) jsonValues(vals.addArray(), inner[i], max);
            }
            case FLOAT32 -> {
                for (int i = 0; i < n; i++) vals.add((float) a.getDouble(i));
            }
            case FLOAT64 -> {
                for (int i = 0; i < n; i++) vals.add(a.getDouble(i));
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) vals.add(a.getBool(i));
            }
            case UINT64 -> {
                for (int i = 0; i < n; i++) vals.add(new java.math.BigInteger(Long.toUnsignedString(a.getLong(i))));
            }
            default -> {
                for (int i = 0; i < n; i++) vals.add(a.getLong(i));
            }
        }
        return vals;
    }

    static String humanCount(long n) {
        if (n >= 1_000_000_000L) return String.format("%.2f B", n / 1e9);
        if (n >= 1_000_000L) return String.format("%.2f M", n / 1e6);
        if (n >= 1_000L) return String.format("%.2f K", n / 1e3);
        return Long.toString(n);
    }

    static String humanBytes(long n) {
        if (n >= 1L << 30) return String.format("%.2f GiB", n / (double) (1L << 30));
        if (n >= 1L << 20) return String.format("%.2f MiB", n / (double) (1L << 20));
        if (n >= 1L << 10) return String.format("%.2f KiB", n / (double) (1L << 10));
        return n + " B";
    }
}
