package dev.panllama.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every {@code $ ./panllama ...} command in README.md runs from a fresh clone, in README order (later
 * commands read what earlier ones wrote), in process: a command whose first output line in README is
 * {@code panllama CMD: error: ...} must fail with exactly that line, every other must succeed.
 * Paths under /tmp go to a temporary directory, paths of the repository resolve against its root.
 * Skipped, each with its reason printed: the server (its examples are ServeXxxTest's), the commands
 * that make or read the 1.1B and DeepSeek-V3-shaped files (minutes each: the long ones), and commands
 * that are not panllama's.
 */
class ReadmeCommandsTest {
    private static final Path ROOT = Path.of(System.getProperty("panllama.home", "..")).toAbsolutePath().normalize();
    /** The long ones: files of a real model's size (see README's bench and DeepSeek sections). */
    private static final Pattern LONG = Pattern.compile("--preset (1b|8b|moe|v3)|/tmp/(b1-|ds2-|quant-moe4)");
    /** Output lines that are not generated text: timings, the machine, the model's description, stderr's tool lines. */
    private static final Pattern VARYING = Pattern.compile("tok/s|^(panllama|model:|warning:|gguf-split:)|^>?\\s*$");
    private static final Pattern OUTPUT_FILE = Pattern.compile(".*\\.(gguf|dat|kld|f32|json|bin)");

    /** A command, its README line, and the output lines README shows after it. */
    record Command(int line, String text, List<String> output) {
        String firstOutput() { return output.isEmpty() ? null : output.getFirst(); }
    }

    @Test
    void everyCommandRuns(@TempDir Path tmp) throws Exception {
        List<Command> commands = commands(Files.readAllLines(ROOT.resolve("README.md")));
        assertThat(commands).hasSizeGreaterThan(30);
        Map<String, Integer> skipped = new LinkedHashMap<>();
        int ran = 0, errors = 0, greedyLines = 0;
        for (Command c : commands) {
            String reason = skipReason(c.text());
            if (reason != null) {
                skipped.merge(reason, 1, Integer::sum);
                continue;
            }
            Invocation inv = Invocation.parse(c.text(), tmp);
            if (inv.args().getFirst().equals("mkdir")) {
                Files.createDirectories(Path.of(inv.args().getLast()));
                ran++;
                continue;
            }
            if (inv.args().getFirst().equals("cmp")) {          // README's check that a merge is byte-identical
                assertThat(Files.mismatch(Path.of(inv.args().get(1)), Path.of(inv.args().get(2)))).as(c.text()).isEqualTo(-1L);
                ran++;
                continue;
            }
            CliRun r = CliRun.withStdin(inv.stdin(), () -> CliRun.of(inv.args().toArray(String[]::new)));
            String err = r.err().replace(tmp.toString(), "/tmp");
            if (c.firstOutput() != null && c.firstOutput().matches("panllama( [a-z-]+)?: error: .*")) {
                assertThat(r.exitCode()).as("README line %d: %s%n%s", c.line(), c.text(), err).isNotZero();
                // the bundled files' paths start where README's author cloned, and here where this clone is
                assertThat(err.lines().map(ReadmeCommandsTest::repoRelative).toList()).as("README line %d: %s", c.line(), c.text())
                        .contains(repoRelative(c.firstOutput()));
                errors++;
            } else {
                assertThat(r.exitCode()).as("README line %d: %s%nargs %s%n%s", c.line(), c.text(), inv.args(), err).isZero();
                if (c.text().contains("--temp 0 ")) {
                    // Greedy text is the same on every machine (the oracle tests hold it token for token at every
                    // vector width): README's lines of generated text are the real ones. Lines of timings, the
                    // machine and the model's description vary.
                    // A chat's prompts ("> ") sit where stderr's lines came in on the terminal: compared without them.
                    List<String> actual = r.out().lines().map(ReadmeCommandsTest::withoutPrompts).toList();
                    for (String l : c.output()) {
                        String text = withoutPrompts(l);
                        if (VARYING.matcher(text).find()) continue;
                        assertThat(actual).as("README line %d: %s", c.line(), c.text()).contains(text);
                        greedyLines++;
                    }
                }
            }
            ran++;
        }
        System.out.printf("README commands: %d run (%d of them the errors README shows, %d lines of greedy text compared), %d skipped: %s%n",
                ran, errors, greedyLines, skipped.values().stream().mapToInt(Integer::intValue).sum(), skipped);
    }

    /** Paths of the repository's own files from their top folder: models/..., testdata/... */
    private static String repoRelative(String line) {
        return line.replaceAll("/\\S*/(models|testdata)/", "$1/");
    }

    private static String withoutPrompts(String line) {
        return line.replaceFirst("^(> )+", "").stripTrailing();
    }

    /** The {@code $ } lines of README's code blocks (continuation lines joined), with the line after each. */
    static List<Command> commands(List<String> lines) {
        List<Command> out = new ArrayList<>();
        boolean inBlock = false;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.startsWith("```")) {
                inBlock = !inBlock;
                continue;
            }
            if (!inBlock || !l.startsWith("$ ")) continue;
            int first = i;
            StringBuilder cmd = new StringBuilder(l.substring(2));
            while (cmd.toString().endsWith("\\") && i + 1 < lines.size()) {
                cmd.setLength(cmd.length() - 1);
                cmd.append(' ').append(lines.get(++i).strip());
            }
            List<String> output = new ArrayList<>();
            for (int j = i + 1; j < lines.size() && !lines.get(j).startsWith("```") && !lines.get(j).startsWith("$ "); j++) output.add(lines.get(j));
            out.add(new Command(first + 1, cmd.toString(), output));
        }
        return out;
    }

    private static String skipReason(String cmd) {
        if (cmd.startsWith("curl") || cmd.contains("| python") || cmd.contains("| jq")) return "an HTTP client";
        if (cmd.contains("./panllama serve")) return "the server (ServeXxxTest)";
        if (LONG.matcher(cmd).find()) return "long (a 1.1B- or DeepSeek-V3-sized file)";
        if (cmd.startsWith("cmp ") || cmd.startsWith("mkdir -p /tmp/")) return null;
        if (!cmd.startsWith("./panllama ") && !cmd.matches("printf '[^']*' \\| \\./panllama .*")) return "not a panllama command";
        if (cmd.startsWith("./panllama example ")) return "examples/ (ExamplesTest)";
        return null;
    }

    /** A command line as a shell would split it: arguments, and what its stdin holds. */
    record Invocation(List<String> args, String stdin) {
        static Invocation parse(String cmd, Path tmp) {
            String stdin = "";
            int pipe = cmd.indexOf("' | ./panllama ");
            if (cmd.startsWith("printf '") && pipe > 0) {
                stdin = cmd.substring("printf '".length(), pipe).replace("\\n", "\n");
                cmd = cmd.substring(pipe + 4);
            }
            List<String> words = split(cmd);
            List<String> args = new ArrayList<>();
            for (int i = 0; i < words.size(); i++) {
                String w = words.get(i);
                if (w.equals("&&")) break;                       // `cmp A B && echo byte-identical`
                if (w.equals("</dev/null") || w.equals("<")) {
                    if (w.equals("<")) i++;
                    continue;
                }
                if (i == 0 && w.equals("./panllama")) continue;
                args.add(path(w, tmp));
            }
            return new Invocation(args, stdin);
        }

        /** /tmp paths into the test's directory; the repository's files absolute; other relative output files into tmp. */
        private static String path(String w, Path tmp) {
            if (w.startsWith("/tmp/")) return tmp.resolve(w.substring(5)).toString();
            if (w.startsWith("-") || w.contains("=") || w.contains(" ")) return w;
            if (w.contains("/") && Files.exists(ROOT.resolve(w))) return ROOT.resolve(w).toString();
            if (OUTPUT_FILE.matcher(w).matches() && !w.contains("/")) return tmp.resolve(w).toString();
            return w;
        }

        /** POSIX shell words: single quotes literal, double quotes with \" \\ \$, unquoted backslash, # comments. */
        static List<String> split(String s) {
            List<String> out = new ArrayList<>();
            StringBuilder w = null;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '#' && w == null) break;
                if (Character.isWhitespace(c)) {
                    if (w != null) out.add(w.toString());
                    w = null;
                    continue;
                }
                if (w == null) w = new StringBuilder();
                if (c == '\'') {
                    int end = s.indexOf('\'', i + 1);
                    w.append(s, i + 1, end);
                    i = end;
                } else if (c == '"') {
                    for (i++; s.charAt(i) != '"'; i++) {
                        char d = s.charAt(i);
                        if (d == '\\' && "\"\\$`".indexOf(s.charAt(i + 1)) >= 0) d = s.charAt(++i);
                        w.append(d);
                    }
                } else if (c == '\\' && i + 1 < s.length()) {
                    w.append(s.charAt(++i));
                } else {
                    w.append(c);
                }
            }
            if (w != null) out.add(w.toString());
            return out;
        }
    }

    @Test
    void splitsLikeAShell() {
        assertThat(Invocation.split("run -p \"Once \\\"upon\\\"\" --grammar 'a ::= \"x\"' a\\ b # note"))
                .containsExactly("run", "-p", "Once \"upon\"", "--grammar", "a ::= \"x\"", "a b");
    }
}
