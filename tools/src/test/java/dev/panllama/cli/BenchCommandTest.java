package dev.panllama.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code panllama bench} on the bundled stories260K with tiny tests: the three formats and llama-bench's lists. */
class BenchCommandTest {

    @Test
    void markdownTableHasLlamaBenchColumnsAndOneRowPerTest() {
        CliRun r = CliRun.of("bench", "-p", "8", "-n", "4", "-r", "2", "-t", "1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        System.out.println(r.out());
        assertThat(cells(lines.get(0))).containsExactly("model", "size", "params", "backend", "threads", "test", "t/s");
        assertThat(lines.get(1)).matches("\\|( -+[-:] \\|)+");
        List<String> pp = cells(lines.get(2));
        List<String> tg = cells(lines.get(3));
        assertThat(pp.get(0)).isEqualTo("llama ?B all F32 (guessed)");   // stories260K has no general.file_type
        assertThat(pp.get(1)).isEqualTo("1.12 MiB");
        assertThat(pp.get(2)).isEqualTo("0.29 M");
        assertThat(pp.subList(3, 6)).containsExactly("CPU", "1", "pp8");
        assertThat(tg.get(5)).isEqualTo("tg4");
        for (List<String> row : List.of(pp, tg)) {
            String[] ts = row.get(6).split(" ± ");
            assertThat(Double.parseDouble(ts[0])).isPositive();
            assertThat(Double.parseDouble(ts[1])).isNotNegative();
        }
        assertThat(lines.get(5)).matches("build: ([0-9a-f]{7,}(-dirty)?|unknown) \\(0\\)");
        assertThat(lines.get(6)).matches("kernels: .*Vector API (128|256|512)-bit, 1 thread");
    }

    @Test
    void jsonHasLlamaBenchFieldsForEveryTest() throws Exception {
        CliRun r = CliRun.of("bench", "-p", "0,8", "-n", "4", "-t", "1,2", "-r", "2", "-o", "json", "-b", "4");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode tests = new ObjectMapper().readTree(r.out());
        // per thread count: pp8 (pp0 is skipped, as llama-bench does), then tg4
        assertThat(tests.size()).isEqualTo(4);
        int[][] expected = {{1, 8, 0}, {1, 0, 4}, {2, 8, 0}, {2, 0, 4}};
        for (int i = 0; i < 4; i++) {
            JsonNode t = tests.get(i);
            List<String> names = iterable(t);
            assertThat(names.subList(0, names.size() - 2)).containsExactlyElementsOf(BenchResult.FIELDS);
            assertThat(names.subList(names.size() - 2, names.size())).containsExactly("samples_ns", "samples_ts");
            assertThat(t.get("n_threads").asInt()).isEqualTo(expected[i][0]);
            assertThat(t.get("n_prompt").asInt()).isEqualTo(expected[i][1]);
            assertThat(t.get("n_gen").asInt()).isEqualTo(expected[i][2]);
            assertThat(t.get("n_batch").asInt()).isEqualTo(4);
            assertThat(t.get("n_ubatch").asInt()).isEqualTo(4);      // -ub is capped at -b, as llama.cpp does
            assertThat(t.get("model_size").asLong()).isEqualTo(1171200);
            assertThat(t.get("model_n_params").asLong()).isEqualTo(292800);
            assertThat(t.get("use_mmap").isBoolean()).isTrue();
            assertThat(t.get("type_k").asText()).isEqualTo("f16");
            assertThat(t.get("avg_ts").isNumber()).isTrue();
            assertThat(t.get("avg_ts").asDouble()).isPositive();
            assertThat(t.get("stddev_ts").asDouble()).isNotNegative();
            assertThat(t.get("avg_ns").asLong()).isPositive();
            assertThat(t.get("samples_ns").size()).isEqualTo(2);
            assertThat(t.get("samples_ts").size()).isEqualTo(2);
            double tokens = expected[i][1] + expected[i][2];
            double mean = (tokens * 1e9 / t.get("samples_ns").get(0).asDouble() + tokens * 1e9 / t.get("samples_ns").get(1).asDouble()) / 2;
            assertThat(t.get("avg_ts").asDouble()).isCloseTo(mean, org.assertj.core.data.Percentage.withPercentage(0.01));
            assertThat(t.get("test_time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
        }
    }

    @Test
    void csvHasAHeaderAndQuotedValues() {
        CliRun r = CliRun.of("bench", "-p", "8", "-n", "0", "-pg", "4,2", "-r", "1", "-t", "1", "-o", "csv", "-ctk", "f32", "--no-mmap");
        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0).split(",")).containsExactlyElementsOf(BenchResult.FIELDS);
        for (String row : lines.subList(1, 3)) {
            String[] values = row.substring(1, row.length() - 1).split("\",\"", -1);
            assertThat(values).hasSize(BenchResult.FIELDS.size());
            assertThat(values[BenchResult.FIELDS.indexOf("type_k")]).isEqualTo("f32");
            assertThat(values[BenchResult.FIELDS.indexOf("use_mmap")]).isEqualTo("0");
            assertThat(Double.parseDouble(values[BenchResult.FIELDS.indexOf("avg_ts")])).isPositive();
        }
        String[] pg = lines.get(2).split("\",\"");
        assertThat(pg[BenchResult.FIELDS.indexOf("n_prompt")]).isEqualTo("4");
        assertThat(pg[BenchResult.FIELDS.indexOf("n_gen")]).isEqualTo("2");
    }

    @Test
    void listsAndRangesExpandAsInLlamaBench() {
        assertThat(ValueLists.ints(List.of("0,512"), "-p")).containsExactly(0, 512);
        assertThat(ValueLists.ints(List.of("1-4"), "-t")).containsExactly(1, 2, 3, 4);
        assertThat(ValueLists.ints(List.of("0-512+128"), "-p")).containsExactly(0, 128, 256, 384, 512);
        assertThat(ValueLists.ints(List.of("64-512*2", "7"), "-p")).containsExactly(64, 128, 256, 512, 7);
        assertThat(ValueLists.bools(List.of("0,1"), "-mmp")).containsExactly(false, true);
        assertThatThrownBy(() -> ValueLists.ints(List.of("8-2"), "-p")).hasMessageContaining("-p 8-2: the range ends before it starts");
        assertThatThrownBy(() -> ValueLists.ints(List.of("1-8*1"), "-t")).hasMessageContaining("never advances");
        assertThatThrownBy(() -> ValueLists.ints(List.of("12,x"), "-n")).hasMessageContaining("-n x: not a number or a range");
        assertThatThrownBy(() -> ValueLists.ints(List.of("1,,2"), "-n")).hasMessageContaining("empty item");
    }

    @Test
    void badOptionsAreOneLineErrors() {
        CliRun format = CliRun.of("bench", "-p", "8", "-n", "0", "-o", "xml");
        assertThat(format.exitCode()).isEqualTo(1);
        assertThat(format.err()).contains("-o xml: unknown output format (use md, json or csv)");
        CliRun threads = CliRun.of("bench", "-t", "0");
        assertThat(threads.exitCode()).isEqualTo(1);
        assertThat(threads.err()).contains("-t 0: must be positive");
        CliRun missing = CliRun.of("bench", "-m", "/nonexistent/model.gguf");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("/nonexistent/model.gguf: no such model file");
        CliRun badBuffer = CliRun.of("bench", "-p", "8", "-n", "0", "-r", "1", "-ot", "blk=GPU");
        assertThat(badBuffer.exitCode()).isEqualTo(1);
        assertThat(badBuffer.err()).contains("unknown buffer type 'GPU'");
    }

    /** -ngl values and -ot flags are variants of their own; the backend column shows the devices used. */
    @Test
    void placementVariants() throws Exception {
        CliRun r = CliRun.of("bench", "-p", "16", "-n", "0", "-r", "1", "-ngl", "0,5", "-dev", "CPU_REF", "-o", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode tests = new ObjectMapper().readTree(r.out());
        assertThat(tests).hasSize(2);
        assertThat(tests.get(0).get("n_gpu_layers").asInt()).isZero();
        assertThat(tests.get(0).get("backends").asText()).isEqualTo("CPU");
        assertThat(tests.get(1).get("n_gpu_layers").asInt()).isEqualTo(5);
        assertThat(tests.get(1).get("backends").asText()).isEqualTo("CPU,CPU_REF");
        CliRun ot = CliRun.of("bench", "-p", "16", "-n", "0", "-r", "1", "-ot", "attn=CPU_REF", "-ot", "ffn=CPU_REF");
        assertThat(ot.exitCode()).as(ot.err()).isZero();
        assertThat(ot.out().lines().filter(l -> l.contains("CPU,CPU_REF")).count()).isEqualTo(2);
    }

    private static List<String> cells(String row) {
        return Arrays.stream(row.substring(1, row.length() - 1).split("\\|")).map(String::strip).toList();
    }

    private static List<String> iterable(JsonNode object) {
        List<String> names = new java.util.ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
