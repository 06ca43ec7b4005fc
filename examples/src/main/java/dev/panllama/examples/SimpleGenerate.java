package dev.panllama.examples;

import dev.panllama.generate.CachedSession;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.sampling.SamplerParams;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Load a model, tokenize a prompt, stream a greedy continuation. The whole public API a program needs
 * to generate text:
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp ... \
 *      dev.panllama.examples.SimpleGenerate models/stories260K.gguf "Once upon a time" 32
 * </pre>
 */
public final class SimpleGenerate {
    private SimpleGenerate() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: SimpleGenerate MODEL.gguf PROMPT [TOKENS]");
            System.exit(2);
        }
        run(Path.of(args[0]), args[1], args.length > 2 ? Integer.parseInt(args[2]) : 32, System.out);
    }

    static void run(Path modelFile, String prompt, int tokens, PrintStream out) throws Exception {
        try (Model model = Model.load(modelFile, ModelOptions.DEFAULTS.withThreads(2));
             CachedSession session = new CachedSession(model.newSession())) {
            int[] promptTokens = model.tokenizer().encode(prompt, true, false);
            out.print(prompt);
            Completion.Result result = Completion.run(session, model.tokenizer(), promptTokens,
                    CompletionSettings.of(tokens, SamplerParams.GREEDY), text -> {
                        out.print(text);
                        return true;          // false would stop here
                    });
            out.println();
            out.printf("(%d tokens, %.1f tok/s)%n", result.completionTokens(), result.generateTokensPerSecond());
        }
    }
}
