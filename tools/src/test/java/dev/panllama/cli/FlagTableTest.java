package dev.panllama.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * README's table of llama.cpp's flags is the one the commands declare: for each flag of llama.cpp's
 * tools (llama-cpp-flags.txt), the panllama commands that take it, or "not yet". Built from picocli's
 * model of the commands, so the table cannot drift from the code: when a flag is added, this test
 * prints the new table to paste.
 */
class FlagTableTest {
    static String table() throws Exception {
        CommandLine root = new CommandLine(new PanllamaCommand());
        Map<String, Set<String>> takenBy = new TreeMap<>();
        for (Map.Entry<String, CommandLine> sub : root.getSubcommands().entrySet()) {
            if (sub.getKey().equals("help")) continue;
            for (CommandLine.Model.OptionSpec o : sub.getValue().getCommandSpec().options()) {
                for (String n : o.names()) {
                    takenBy.computeIfAbsent(n, k -> new LinkedHashSet<>()).add(sub.getKey());
                    if (o.negatable() && n.startsWith("--")) takenBy.computeIfAbsent("--no-" + n.substring(2), k -> new LinkedHashSet<>()).add(sub.getKey());
                }
            }
        }
        for (CommandLine.Model.OptionSpec o : root.getCommandSpec().options()) {
            for (String n : o.names()) takenBy.computeIfAbsent(n, k -> new LinkedHashSet<>()).add("panllama");
        }
        List<List<String>> groups = new ArrayList<>();      // one row per line of the list: a flag and its aliases side by side
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                LlamaCppFlags.class.getResourceAsStream("llama-cpp-flags.txt"), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) continue;
                for (String n : line.trim().split("\\s+")) groups.add(List.of(n));
            }
        }
        StringBuilder sb = new StringBuilder("| llama.cpp flag | panllama tools that take it |\n|---|---|\n");
        List<String> notYet = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (List<String> g : groups) {
            String flag = g.getFirst();
            if (!seen.add(flag) || flag.equals("-h") || flag.equals("--help")) continue;
            Set<String> cmds = takenBy.get(flag);
            if (cmds == null) notYet.add("`" + flag + "`");
            else sb.append("| `").append(flag).append("` | ").append(String.join(", ", cmds)).append(" |\n");
        }
        sb.append("\nNot yet (refused by name): ").append(String.join(", ", notYet)).append(".\n");
        return sb.toString();
    }

    @Test
    void readmeHasTheTable() throws Exception {
        String expected = table();
        String readme = Files.readString(dev.panllama.testing.TestFiles.root().resolve("README.md"));
        if (!readme.contains(expected)) System.out.println("FlagTableTest: README's flag table should be:\n" + expected);
        assertThat(readme).contains(expected);
    }
}
