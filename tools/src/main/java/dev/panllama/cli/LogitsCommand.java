package dev.panllama.cli;

import dev.panllama.model.Model;
import dev.panllama.model.Session;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/** {@code panllama logits}: the logits of every prompt position as float32, for comparing implementations. */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = {"Write the logits of every position of a prompt to a file, for comparing implementations.",
                "One pass; float32 [n_tokens][n_vocab] little-endian; the prompt's token ids go to stdout."})
final class LogitsCommand extends ToolCommand {
    @Mixin
    ModelOptionsMixin model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "Prompt text (tokenized with BOS as the model adds it)")
        String text;

        @Option(names = "--ids", paramLabel = "IDS", description = "Token ids instead of text, separated by spaces or commas")
        String ids;
    }

    @Option(names = {"-o", "--output"}, paramLabel = "OUT.f32", required = true, description = "Where to write the logits")
    Path output;

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        CliFiles.requireStreamOutput(output);
        try (Model m = model.load(err)) {
            int[] tokens = prompt.text != null ? m.tokenizer().encode(prompt.text, true, false) : parseIds(prompt.ids, m.config().vocabSize());
            if (tokens.length == 0) throw new IllegalArgumentException("the prompt has no tokens");
            int ctx = Math.max(m.defaultContextLength(), tokens.length);
            try (Session s = m.newSession(ctx)) {
                write(output, s.evaluateAll(tokens));
            }
            out.println(Arrays.stream(tokens).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        }
        return 0;
    }

    static int[] parseIds(String ids, int vocab) {
        String[] parts = ids.trim().split("[\\s,]+");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--ids: '" + parts[i] + "' is not a token id");
            }
            if (out[i] < 0 || out[i] >= vocab) throw new IllegalArgumentException("--ids: token " + out[i] + " is outside the vocabulary of " + vocab);
        }
        return out;
    }

    private static void write(Path path, float[] logits) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        try (OutputStream os = Files.newOutputStream(path)) {
            for (float v : logits) {
                if (!bb.hasRemaining()) {
                    os.write(bb.array(), 0, bb.position());
                    bb.clear();
                }
                bb.putFloat(v);
            }
            os.write(bb.array(), 0, bb.position());
        }
    }
}
