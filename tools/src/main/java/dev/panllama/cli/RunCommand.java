package dev.panllama.cli;

import dev.panllama.model.Generator;
import dev.panllama.model.Model;
import dev.panllama.model.Session;
import dev.panllama.sampling.Sampler;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code panllama run}: print the prompt, then its continuation as it is generated (like llama-cli / llama-simple). */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Generate text from a prompt. The prompt is printed, then the continuation as it is generated;",
                "a timing line goes to stderr."})
final class RunCommand implements Callable<Integer> {
    @Mixin
    ModelOptionsMixin model;

    @Mixin
    SamplingOptionsMixin sampling;

    @ArgGroup(exclusive = true)
    PromptSource source;

    static final class PromptSource {
        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "Prompt text")
        String text;

        @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read the prompt from a file")
        Path file;
    }

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "-1",
            description = "Tokens to generate; -1 = until end of text or a full context (default: ${DEFAULT-VALUE})")
    int nPredict;

    @Option(names = "--no-display-prompt", description = "Print only the generated text")
    boolean noDisplayPrompt;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String prompt = source == null ? "" : source.text != null ? source.text : CliFiles.readText(source.file);
        try (Model m = model.load(err); Session session = m.newSession()) {
            int[] tokens = m.tokenizer().encode(prompt, true, false);
            if (tokens.length >= session.contextLength()) {
                throw new IllegalArgumentException("the prompt is " + tokens.length + " tokens, the context only "
                        + session.contextLength() + " (raise -c)");
            }
            Sampler sampler = new Sampler(sampling.params());
            if (!noDisplayPrompt) {
                out.print(prompt);
                out.flush();
            }
            Generator.Stats st = Generator.generate(session, m.tokenizer(), tokens, nPredict, sampler, (token, text) -> {
                out.print(text);
                out.flush();
            });
            out.println();
            out.flush();
            err.println(String.format(Locale.ROOT,
                    "panllama: load %d ms | prompt %d tokens, %.1f ms, %.2f tok/s | generation %d tokens, %.1f ms, %.2f tok/s | %s, seed %d",
                    m.loadMillis(), st.promptTokens(), st.promptNanos() / 1e6, st.promptTokensPerSecond(),
                    st.generatedTokens(), st.generateNanos() / 1e6, st.generateTokensPerSecond(),
                    m.description(), sampler.seed()));
            err.flush();
        }
        return 0;
    }
}
