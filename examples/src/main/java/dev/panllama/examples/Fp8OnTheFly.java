package dev.panllama.examples;

import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.model.Session;
import dev.panllama.tensor.GgmlType;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Runs a Hugging Face FP8 checkpoint directly: its E4M3 weights become Q8_0 with the scales folded in
 * while the model loads, so it runs on the ordinary Q8_0 kernels without a conversion step.
 * <pre>
 * java ... dev.panllama.examples.Fp8OnTheFly ../shared/reference/fp8/fp8-block128 models/stories260K.gguf
 * </pre>
 * The second argument supplies the tokenizer, for checkpoints that have no tokenizer.json.
 */
public final class Fp8OnTheFly {
    private Fp8OnTheFly() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: Fp8OnTheFly HF_FP8_DIR [VOCAB.gguf]");
            System.exit(2);
        }
        run(Path.of(args[0]), args.length > 1 ? Path.of(args[1]) : null, System.out);
    }

    /** Loads the directory, reports how its weights arrived, and returns the next-token logits of a short prompt. */
    static float[] run(Path checkpoint, Path vocabFrom, PrintStream out) throws Exception {
        try (Model model = Model.load(checkpoint, ModelOptions.DEFAULTS.withThreads(2), vocabFrom);
             Session session = model.newSession()) {
            var q = model.source().findTensor("blk.0.attn_q.weight").orElseThrow();
            out.printf("%s: %s, blk.0.attn_q.weight is %s, loaded in %d ms%n", checkpoint.getFileName(),
                    model.config().describe(), q.type(), model.loadMillis());
            if (q.type() != GgmlType.Q8_0) throw new IllegalStateException("expected FP8 weights converted to Q8_0");
            int[] prompt = model.tokenizer().encode("Once upon a time", true, false);
            float[] logits = session.evaluate(prompt);
            int best = 0;
            for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
            out.printf("next token after \"Once upon a time\": %d '%s'%n", best, model.tokenizer().tokenText(best));
            return logits;
        }
    }
}
