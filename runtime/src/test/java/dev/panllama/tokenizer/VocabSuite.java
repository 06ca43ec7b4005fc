package dev.panllama.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * One llama.cpp tokenizer test suite: {@code X.gguf} with {@code X.gguf.inp} / {@code X.gguf.out},
 * parsed as llama.cpp's tests/test-tokenizer-0.cpp reads them (testdata README, section 2): inputs are
 * the raw bytes between {@code "\n__ggml_vocab_test__\n"} separators; each .out line holds the
 * expected ids, space separated.
 */
public record VocabSuite(String name, Path gguf, Path inp, Path out) {
    private static final byte[] SEPARATOR = "\n__ggml_vocab_test__\n".getBytes(StandardCharsets.US_ASCII);

    public record Case(byte[] input, int[] expected) {
        String shown() {
            String s = new String(input, StandardCharsets.UTF_8);
            return "'" + s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "'";
        }
    }

    /** The suite of the vocab file {@code dir/ggml-vocab-NAME.gguf}. */
    public static VocabSuite in(Path dir, String name) {
        Path gguf = dir.resolve("ggml-vocab-" + name + ".gguf");
        return new VocabSuite(name, gguf, Path.of(gguf + ".inp"), Path.of(gguf + ".out"));
    }

    public List<Case> cases() throws IOException {
        List<byte[]> inputs = splitInputs(Files.readAllBytes(inp));
        List<String> lines = new ArrayList<>(Arrays.asList(Files.readString(out, StandardCharsets.UTF_8).split("\n", -1)));
        if (!lines.isEmpty() && lines.getLast().isEmpty()) lines.removeLast();   // the file's final newline ends the last line
        if (lines.size() != inputs.size()) {
            throw new IllegalStateException(name + ": " + inputs.size() + " inputs but " + lines.size() + " expected-output lines");
        }
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String line = lines.get(i).strip();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(inputs.get(i), ids));
        }
        return cases;
    }

    static List<byte[]> splitInputs(byte[] raw) {
        List<byte[]> inputs = new ArrayList<>();
        int pos = 0;
        while (pos < raw.length) {
            int sep = indexOf(raw, SEPARATOR, pos);
            int end = sep < 0 ? raw.length : sep;
            inputs.add(Arrays.copyOfRange(raw, pos, end));
            pos = sep < 0 ? raw.length : sep + SEPARATOR.length;
        }
        return inputs;
    }

    private static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = from; i + needle.length <= hay.length; i++) {
            for (int k = 0; k < needle.length; k++) if (hay[i + k] != needle[k]) continue outer;
            return i;
        }
        return -1;
    }

    /** Runs every case; returns the failures, described. */
    public List<String> failures(Tokenizer tokenizer) throws IOException {
        List<String> failures = new ArrayList<>();
        for (Case c : cases()) {
            int[] got = tokenizer.encode(c.input(), false, false);
            if (!Arrays.equals(got, c.expected())) {
                failures.add(c.shown() + " (" + HexFormat.of().formatHex(c.input()) + "): expected " + Arrays.toString(c.expected())
                        + " got " + Arrays.toString(got));
            }
        }
        return failures;
    }
}
