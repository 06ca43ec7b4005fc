package dev.panllama.cli;

import dev.panllama.model.ModelDescription;
import dev.panllama.tensor.GgmlType;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One llama-bench test (one model and configuration, one pp / tg / pp+tg shape) and its timed
 * repetitions, with llama-bench's field names and value types (mainline tools/llama-bench, c392e50) so
 * that scripts reading its csv or json (compare-llama-bench.py among them) read ours.
 */
record BenchResult(String modelFilename, ModelDescription model, int batch, int ubatch, int threads, GgmlType typeK,
                   GgmlType typeV, boolean mmap, int gpuLayers, String backends, int nPrompt, int nGen, String testTime,
                   long[] samplesNs) {

    enum FieldType { STRING, BOOL, INT, FLOAT }

    /** A field's value as llama-bench writes it (std::to_string), and how json types it. */
    record Field(FieldType type, String value) {}

    /** The machine, the same for every test of a run. */
    record Machine(String buildCommit, String cpuInfo) {}

    /** "pp512", "tg128" or "pp512+tg128". */
    String label() {
        if (nGen == 0) return "pp" + nPrompt;
        if (nPrompt == 0) return "tg" + nGen;
        return "pp" + nPrompt + "+tg" + nGen;
    }

    /** Tokens per second of each repetition: (n_prompt + n_gen) / time. */
    double[] samplesTs() {
        return Arrays.stream(samplesNs).mapToDouble(ns -> 1e9 * (nPrompt + nGen) / ns).toArray();
    }

    double avgTs() { return mean(samplesTs()); }

    double stddevTs() { return stddev(samplesTs()); }

    /** llama-bench's fields, in its order (the csv header). */
    static final List<String> FIELDS = List.of(
            "build_commit", "build_number", "cpu_info", "gpu_info", "backends", "model_filename",
            "model_type", "model_size", "model_n_params", "n_batch", "n_ubatch", "n_threads",
            "cpu_mask", "cpu_strict", "poll", "type_k", "type_v", "n_gpu_layers",
            "split_mode", "main_gpu", "no_kv_offload", "flash_attn", "tensor_split", "use_mmap",
            "embeddings", "n_prompt", "n_gen", "test_time", "avg_ns", "stddev_ns",
            "avg_ts", "stddev_ts");

    /** Every field of {@link #FIELDS}, in order. */
    Map<String, Field> fields(Machine machine) {
        Map<String, Field> f = new LinkedHashMap<>();
        for (String name : FIELDS) f.put(name, field(name, machine));
        return f;
    }

    /**
     * One field. Those for what panllama has no counterpart of (GPU offload, CPU masks, polling, tensor
     * split) carry the value meaning "not used", so that rows group as one in scripts keyed on them.
     */
    private Field field(String name, Machine machine) {
        double[] ns = Arrays.stream(samplesNs).asDoubleStream().toArray();
        return switch (name) {
            case "build_commit" -> str(machine.buildCommit());
            case "build_number", "poll", "main_gpu" -> integer(0);
            case "n_gpu_layers" -> integer(gpuLayers);
            case "cpu_info" -> str(machine.cpuInfo());
            case "gpu_info" -> str("");
            case "backends" -> str(backends);
            case "model_filename" -> str(modelFilename);
            case "model_type" -> str(model.toString());
            case "model_size" -> integer(model.bytes());
            case "model_n_params" -> integer(model.params());
            case "n_batch" -> integer(batch);
            case "n_ubatch" -> integer(ubatch);
            case "n_threads" -> integer(threads);
            case "cpu_mask" -> str("0x0");
            case "cpu_strict", "no_kv_offload", "flash_attn", "embeddings" -> bool(false);
            case "type_k" -> str(typeK.ggmlName());
            case "type_v" -> str(typeV.ggmlName());
            case "split_mode" -> str("none");
            case "tensor_split" -> str("0.00");
            case "use_mmap" -> bool(mmap);
            case "n_prompt" -> integer(nPrompt);
            case "n_gen" -> integer(nGen);
            case "test_time" -> str(testTime);
            case "avg_ns" -> integer(Math.round(mean(ns)));
            case "stddev_ns" -> integer(Math.round(stddev(ns)));
            case "avg_ts" -> real(avgTs());
            case "stddev_ts" -> real(stddevTs());
            default -> throw new IllegalArgumentException("no llama-bench field " + name);
        };
    }

    static double mean(double[] v) {
        return v.length == 0 ? 0 : Arrays.stream(v).sum() / v.length;
    }

    /** The sample standard deviation, as llama-bench's stdev (0 for fewer than two samples). */
    static double stddev(double[] v) {
        int n = v.length;
        if (n <= 1) return 0;
        double mean = mean(v);
        double sq = Arrays.stream(v).map(x -> x * x).sum();
        return Math.sqrt(Math.max(0, sq / (n - 1) - mean * mean * n / (n - 1)));
    }

    private static Field str(String s) { return new Field(FieldType.STRING, s); }

    private static Field integer(long v) { return new Field(FieldType.INT, Long.toString(v)); }

    private static Field bool(boolean b) { return new Field(FieldType.BOOL, b ? "1" : "0"); }

    private static Field real(double v) { return new Field(FieldType.FLOAT, String.format(Locale.ROOT, "%f", v)); }
}
