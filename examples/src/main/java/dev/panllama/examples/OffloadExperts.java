package dev.panllama.examples;

import dev.panllama.generate.CachedSession;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.scheduler.PlacementSettings;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Placement rules through the API, as {@code -ot} takes them on the command line: put the weights whose
 * name matches a regex on another device (here every mixture-of-experts weight, {@code exps}, on
 * CPU_REF, the scalar reference device; with a GPU it would be the other way round), print where each
 * tensor went, and generate. Activations cross between devices only where an op's device changes.
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp ... \
 *      dev.panllama.examples.OffloadExperts zoo-qwen3moe-Q4_K.gguf "exps=CPU_REF" "Once upon a time"
 * </pre>
 */
public final class OffloadExperts {
    private OffloadExperts() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: OffloadExperts MODEL.gguf REGEX=BUFFER[,...] PROMPT");
            System.exit(2);
        }
        run(Path.of(args[0]), args[1], args[2], 16, System.out);
    }

    static void run(Path modelFile, String overrides, String prompt, int tokens, PrintStream out) throws Exception {
        PlacementSettings placement = PlacementSettings.CPU_ONLY.withOverrides(overrides);
        try (Model model = Model.load(modelFile, ModelOptions.DEFAULTS.withThreads(2).withPlacement(placement));
             CachedSession session = new CachedSession(model.newSession(256))) {
            out.print(model.placement().report());
            out.println("running on: " + model.description());
            int[] promptTokens = model.tokenizer().encode(prompt, true, false);
            out.print(prompt);
            Completion.Result result = Completion.run(session, model.tokenizer(), promptTokens,
                    CompletionSettings.of(tokens, SamplerParams.GREEDY), text -> {
                        out.print(text);
                        return true;
                    });
            out.println();
            out.printf("(%d tokens; %d activation copies between devices)%n", result.completionTokens(), session.session().boundaryCopies());
        }
    }
}
