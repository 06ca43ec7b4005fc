package dev.panllama.cli;

import dev.panllama.cli.BenchResult.Field;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** llama-bench's output formats (-o md|json|csv), written as each test finishes. */
abstract sealed class BenchOutput {
    final PrintWriter out;
    final BenchResult.Machine machine;

    private BenchOutput(PrintWriter out, BenchResult.Machine machine) {
        this.out = out;
        this.machine = machine;
    }

    /**
     * @param format       md, json or csv
     * @param extraColumns for md: the optional columns to show (llama-bench shows a parameter when it
     *                     was given a non-default value or several values), e.g. "n_batch", "type_k"
     */
    static BenchOutput create(String format, PrintWriter out, BenchResult.Machine machine, List<String> extraColumns) {
        return switch (format) {
            case "md" -> new Markdown(out, machine, extraColumns);
            case "json" -> new Json(out, machine);
            case "csv" -> new Csv(out, machine);
            default -> throw new IllegalArgumentException("-o " + format + ": unknown output format (use md, json or csv)");
        };
    }

    abstract void header();

    abstract void test(BenchResult r);

    /** @param kernels what ran each model, e.g. "AMD EPYC 9R14, Vector API 512-bit, 2 threads", once each */
    void footer(Collection<String> kernels) {}

    /** Comma-separated, every value quoted, a header row of field names. */
    static final class Csv extends BenchOutput {
        Csv(PrintWriter out, BenchResult.Machine machine) { super(out, machine); }

        @Override
        void header() {
            out.println(String.join(",", BenchResult.FIELDS));
        }

        @Override
        void test(BenchResult r) {
            out.println(r.fields(machine).values().stream()
                    .map(f -> "\"" + f.value().replace("\"", "\"\"") + "\"")
                    .collect(Collectors.joining(",")));
            out.flush();
        }
    }

    /** An array of objects: every field typed, then samples_ns and samples_ts. */
    static final class Json extends BenchOutput {
        private boolean first = true;

        Json(PrintWriter out, BenchResult.Machine machine) { super(out, machine); }

        @Override
        void header() {
            out.println("[");
        }

        @Override
        void test(BenchResult r) {
            if (!first) out.println(",");
            first = false;
            out.println("  {");
            for (Map.Entry<String, Field> e : r.fields(machine).entrySet()) {
                out.printf("    \"%s\": %s,%n", e.getKey(), json(e.getValue()));
            }
            out.printf("    \"samples_ns\": [ %s ],%n", Arrays.stream(r.samplesNs()).mapToObj(Long::toString).collect(Collectors.joining(", ")));
            out.printf("    \"samples_ts\": [ %s ]%n", Arrays.stream(r.samplesTs())
                    .mapToObj(v -> String.format(Locale.ROOT, "%.6g", v)).collect(Collectors.joining(", ")));
            out.print("  }");
            out.flush();
        }

        @Override
        void footer(Collection<String> kernels) {
            out.println();
            out.println("]");
        }

        private static String json(Field f) {
            return switch (f.type()) {
                case STRING -> "\"" + escape(f.value()) + "\"";
                case BOOL -> f.value().equals("0") ? "false" : "true";
                case INT, FLOAT -> f.value();
            };
        }

        private static String escape(String s) {
            StringBuilder b = new StringBuilder();
            for (char c : s.toCharArray()) {
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    default -> {
                        if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                        else b.append(c);
                    }
                }
            }
            return b.toString();
        }
    }

    /** The table people paste: model, size, params, backend, threads, [options], test, t/s. */
    static final class Markdown extends BenchOutput {
        private final List<String> columns = new ArrayList<>();

        Markdown(PrintWriter out, BenchResult.Machine machine, List<String> extraColumns) {
            super(out, machine);
            columns.addAll(List.of("model", "size", "params", "backend", "n_threads"));
            columns.addAll(extraColumns);
            columns.addAll(List.of("test", "t/s"));
        }

        /** llama-bench's widths; negative = left-aligned (strings). */
        private static int width(String column) {
            return switch (column) {
                case "model" -> -30;
                case "t/s" -> 20;
                case "size", "params" -> 10;
                case "n_threads", "n_batch" -> 7;
                case "n_ubatch" -> 8;
                case "type_k", "type_v" -> 6;
                case "use_mmap" -> 4;
                case "test" -> 13;
                case "backend" -> -10;
                default -> Math.max(column.length(), 10);
            };
        }

        private static String title(String column) {
            return switch (column) {
                case "n_threads" -> "threads";
                case "use_mmap" -> "mmap";
                default -> column;
            };
        }

        @Override
        void header() {
            StringBuilder names = new StringBuilder("|");
            StringBuilder rule = new StringBuilder("|");
            for (String c : columns) {
                names.append(' ').append(pad(title(c), width(c))).append(" |");
                int w = width(c);
                rule.append(' ').append("-".repeat(Math.abs(w) - 1)).append(w > 0 ? ':' : '-').append(" |");
            }
            out.println(names);
            out.println(rule);
        }

        @Override
        void test(BenchResult r) {
            Map<String, Field> fields = r.fields(machine);
            StringBuilder row = new StringBuilder("|");
            for (String c : columns) {
                String value = switch (c) {
                    case "model" -> r.model().toString();
                    case "size" -> size(r.model().bytes());
                    case "params" -> params(r.model().params());
                    case "backend" -> r.backends();
                    case "test" -> r.label();
                    case "t/s" -> String.format(Locale.ROOT, "%.2f ± %.2f", r.avgTs(), r.stddevTs());
                    default -> fields.get(c).value();
                };
                row.append(' ').append(pad(value, width(c))).append(" |");
            }
            out.println(row);
            out.flush();
        }

        @Override
        void footer(Collection<String> kernels) {
            out.println();
            out.println("build: " + machine.buildCommit() + " (0)");
            // The vector width decides the kernels' speed as much as the CPU does: say which ran.
            for (String k : kernels) out.println("kernels: " + k);
        }

        static String size(long bytes) {
            return bytes < 1L << 30 ? String.format(Locale.ROOT, "%.2f MiB", bytes / 1024.0 / 1024.0)
                    : String.format(Locale.ROOT, "%.2f GiB", bytes / 1024.0 / 1024.0 / 1024.0);
        }

        static String params(long n) {
            return n < 1_000_000_000L ? String.format(Locale.ROOT, "%.2f M", n / 1e6) : String.format(Locale.ROOT, "%.2f B", n / 1e9);
        }

        private static String pad(String s, int width) {
            int w = Math.abs(width);
            if (s.length() >= w) return s;
            String fill = " ".repeat(w - s.length());
            return width < 0 ? s + fill : fill + s;
        }
    }
}
