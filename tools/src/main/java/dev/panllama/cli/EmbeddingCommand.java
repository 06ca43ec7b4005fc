package dev.panllama.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.panllama.model.Embeddings;
import dev.panllama.model.Model;
import dev.panllama.model.Session;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code panllama embedding} (llama-embedding): the embedding of each prompt, as {@code serve
 * --embeddings} makes it (the final hidden states, pooled, normalized; {@link Embeddings}).
 */
@Command(name = "embedding", mixinStandardHelpOptions = true,
        description = "Print the embeddings of texts (like llama-embedding): final hidden states, pooled and normalized.")
final class EmbeddingCommand extends ToolCommand {
    @Mixin
    ModelOptionsMixin model;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "The texts, split by --embd-separator")
    String prompt;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read the texts from a file")
    Path file;

    @Option(names = "--pooling", paramLabel = "TYPE", description = "none, mean, cls or last (default: the model's pooling_type, else mean)")
    String pooling;

    @Option(names = "--embd-normalize", paramLabel = "N", defaultValue = "2",
            description = "-1 none, 0 max absolute (int16), 1 taxicab, 2 Euclidean, >2 p-norm (default: ${DEFAULT-VALUE})")
    int normalize;

    @Option(names = "--embd-output-format", paramLabel = "FORMAT", defaultValue = "",
            description = "'' (lines), 'array' ([[...], ...]), 'json' (OpenAI's) or 'json+' (and the cosine similarities)")
    String format;

    @Option(names = "--embd-separator", paramLabel = "TEXT", defaultValue = "\n", description = "What separates the texts (default: a newline)")
    String separator;

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        if (prompt != null && file != null) throw new IllegalArgumentException("-p and -f: give one of them");
        if (prompt == null && file == null) throw new IllegalArgumentException("-p TEXT or -f FILE: the texts to embed");
        if (!List.of("", "array", "json", "json+").contains(format)) {
            throw new IllegalArgumentException("--embd-output-format " + format + ": must be '', array, json or json+");
        }
        if (normalize < -1) throw new IllegalArgumentException("--embd-normalize " + normalize + ": must be -1 or more");
        if (separator.isEmpty()) throw new IllegalArgumentException("--embd-separator must not be empty");
        String text = prompt != null ? prompt.replace("\\n", "\n") : CliFiles.readText(file);
        List<String> texts = new ArrayList<>();
        for (String t : text.split(java.util.regex.Pattern.quote(separator.replace("\\n", "\n")), -1)) if (!t.isEmpty()) texts.add(t);
        if (texts.isEmpty()) throw new IllegalArgumentException("no text to embed");
        Embeddings.Pooling chosen = pooling != null ? Embeddings.Pooling.parse(pooling) : null;
        List<float[][]> all = new ArrayList<>();
        try (Model m = model.load(err)) {
            Embeddings.Pooling p = chosen != null ? chosen : Embeddings.Pooling.ofModel(m.metadata(), Embeddings.Pooling.MEAN);
            int dim = m.config().embeddingLength();
            for (String t : texts) {
                int[] tokens = m.tokenizer().encode(t, true, true);
                if (tokens.length == 0) throw new IllegalArgumentException("the text '" + t + "' has no tokens");
                try (Session s = m.newSession(Math.max(tokens.length, 1))) {
                    float[][] v = Embeddings.pool(s.hiddenStates(tokens), tokens.length, dim, p);
                    for (float[] row : v) Embeddings.normalize(row, p == Embeddings.Pooling.NONE ? -1 : normalize);
                    all.add(v);
                }
            }
        }
        print(out, all);
        out.flush();
        return 0;
    }

    private void print(PrintWriter out, List<float[][]> all) throws Exception {
        ObjectMapper json = new ObjectMapper();
        switch (format) {
            case "" -> {
                int n = 0;
                for (float[][] v : all) {
                    for (float[] row : v) {
                        StringBuilder sb = new StringBuilder("embedding " + n++ + ":");
                        for (float x : row) sb.append(String.format(Locale.ROOT, " %9.6f", x));
                        out.println(sb);
                    }
                }
                if (all.size() > 1 && all.stream().allMatch(v -> v.length == 1)) {
                    out.println();
                    out.println("cosine similarity matrix:");
                    for (float[][] a : all) {
                        StringBuilder sb = new StringBuilder();
                        for (float[][] b : all) sb.append(String.format(Locale.ROOT, "%6.2f ", cosine(a[0], b[0])));
                        out.println(sb.toString().stripTrailing());
                    }
                }
            }
            case "array" -> {
                ArrayNode root = json.createArrayNode();
                for (float[][] v : all) for (float[] row : v) floats(root.addArray(), row);
                out.println(json.writeValueAsString(root));
            }
            default -> {
                ObjectNode root = json.createObjectNode();
                root.put("object", "list");
                ArrayNode data = root.putArray("data");
                int n = 0;
                for (float[][] v : all) {
                    for (float[] row : v) {
                        ObjectNode d = data.addObject();
                        d.put("object", "embedding");
                        d.put("index", n++);
                        floats(d.putArray("embedding"), row);
                    }
                }
                if (format.equals("json+") && all.stream().allMatch(v -> v.length == 1)) {
                    ArrayNode cos = root.putArray("cosineSimilarity");
                    for (float[][] a : all) {
                        ArrayNode row = cos.addArray();
                        for (float[][] b : all) row.add(cosine(a[0], b[0]));
                    }
                }
                out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(root));
            }
        }
    }

    private static void floats(ArrayNode a, float[] v) {
        for (float x : v) a.add(x);
    }

    private static float cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0f : (float) (dot / Math.sqrt(na * nb));
    }
}
