package dev.panllama.cli;

import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * llama.cpp's flag names (llama-cpp-flags.txt), so that one a panllama command does not declare is
 * refused by name rather than misparsed: "-fa is a llama.cpp flag that panllama does not support (yet)".
 * The parameter-error handler of every command line.
 */
final class LlamaCppFlags implements CommandLine.IParameterExceptionHandler {
    private static final Set<String> NAMES = load();

    private final CommandLine.IParameterExceptionHandler fallback;

    /** @param fallback what handles every other parameter error */
    LlamaCppFlags(CommandLine.IParameterExceptionHandler fallback) {
        this.fallback = fallback;
    }

    private static Set<String> load() {
        Set<String> names = new HashSet<>();
        try (InputStream in = LlamaCppFlags.class.getResourceAsStream("llama-cpp-flags.txt")) {
            if (in == null) throw new IllegalStateException("llama-cpp-flags.txt is missing from the build");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#")) continue;
                for (String n : line.trim().split("\\s+")) if (!n.isEmpty()) names.add(n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return names;
    }

    /** Whether {@code arg} (a flag, with or without "=value") is one of llama.cpp's. */
    static boolean isLlamaCpp(String arg) {
        int eq = arg.indexOf('=');
        return NAMES.contains(eq > 0 ? arg.substring(0, eq) : arg);
    }

    @Override
    public int handleParseException(CommandLine.ParameterException ex, String[] args) throws Exception {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        if (ex instanceof CommandLine.UnmatchedArgumentException u) {
            for (String arg : u.getUnmatched()) {
                if (arg.startsWith("-") && isLlamaCpp(arg)) {
                    String flag = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
                    err.println("panllama " + cmd.getCommandName() + ": error: " + flag + " is a llama.cpp flag that panllama "
                            + cmd.getCommandName() + " does not support (yet); see --help");
                    err.flush();
                    return 2;
                }
            }
        }
        return fallback.handleParseException(ex, args);
    }
}
