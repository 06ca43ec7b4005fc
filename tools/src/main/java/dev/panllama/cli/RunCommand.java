package dev.panllama.cli;

import dev.panllama.generate.CachedSession;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.model.ContextShift;
import dev.panllama.model.Model;
import dev.panllama.sampling.Grammar;
import dev.panllama.sampling.SamplerParams;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code panllama run}: print the prompt, then its continuation as it is generated (like llama-cli / llama-simple). */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Generate text from a prompt (like llama-cli -p).",
                "The prompt is printed, then the continuation as it is generated; a timing line goes to stderr."})
final class RunCommand extends ToolCommand {
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
            description = "Tokens to generate; -1 = until end of text (the context shifts when it fills), -2 = until the context is full"
                    + " (default: ${DEFAULT-VALUE})")
    int nPredict;

    @Mixin
    ContextShiftOptionsMixin contextShift;

    @Mixin
    GrammarOptionsMixin grammarOptions;

    @Option(names = "--no-display-prompt", description = "Print only the generated text")
    boolean noDisplayPrompt;

    @Option(names = "--no-perf", description = "Leave out the timing line at the end")
    boolean noPerf;

    @Option(names = {"-r", "--reverse-prompt"}, paramLabel = "TEXT", description = "Stop when the text shows TEXT (repeatable; not printed)")
    List<String> reversePrompts = new ArrayList<>();

    @Option(names = {"-e", "--escape"}, negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Read \\n, \\t, \\\\ and \\\" in the prompt as escapes (default: on, as in llama.cpp)")
    boolean escape;

    @Option(names = "--verbose-prompt", description = "Print the prompt's tokens before generating")
    boolean verbosePrompt;

    @Option(names = {"-sp", "--special"}, description = "Print special tokens (e.g. <|im_end|>) as their text")
    boolean special;

    @Option(names = "--color", description = "Color the generated text apart from the prompt (ANSI, as llama-cli)")
    boolean color;

    @Option(names = {"-cnv", "--conversation"}, negatable = true,
            description = "Conversation mode, as panllama chat: -p is the first message, -sys the system message (default: off)")
    boolean conversation;

    @Option(names = {"-no-cnv"}, hidden = true, description = "llama-cli's spelling of --no-conversation")
    void noConversation(boolean on) {
        if (on) conversation = false;
    }

    @Option(names = {"-sys", "--system-prompt"}, paramLabel = "TEXT", description = "With -cnv: the system message")
    String systemPrompt;

    @Option(names = {"-st", "--single-turn"}, description = "With -cnv: quit after the first reply")
    boolean singleTurn;

    @Mixin
    ChatTemplateOptionsMixin chatTemplate;

    @Option(names = {"-i", "--interactive"}, description = "Interactive mode: after the text stops (a reverse prompt, end of text, -n tokens) "
            + "the line typed is added to it and the model goes on; Ctrl-C stops the text, and between turns quits")
    boolean interactive;

    @Option(names = {"-if", "--interactive-first"}, description = "Interactive mode, waiting for a line before generating")
    boolean interactiveFirst;

    @Option(names = "--in-prefix", paramLabel = "TEXT", defaultValue = "", description = "Interactive mode: text put before each line typed")
    String inPrefix;

    @Option(names = "--in-suffix", paramLabel = "TEXT", defaultValue = "", description = "Interactive mode: text put after each line typed")
    String inSuffix;

    @Option(names = "--in-prefix-bos", description = "Interactive mode: a BOS token before each line typed (and its prefix)")
    boolean inPrefixBos;

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        checkNPredict(nPredict);
        if (conversation) return conversation(out, err);
        if (!interactive && !interactiveFirst && (!inPrefix.isEmpty() || !inSuffix.isEmpty() || inPrefixBos)) {
            throw new IllegalArgumentException("--in-prefix, --in-suffix and --in-prefix-bos are for interactive mode (-i or -if)");
        }
        if (systemPrompt != null || singleTurn) throw new IllegalArgumentException((systemPrompt != null ? "-sys" : "-st") + " is for conversation mode (-cnv)");
        SamplerParams params = sampling.params();
        String prompt = source == null ? "" : source.text != null ? (escape ? Escapes.process(source.text) : source.text) : CliFiles.readText(source.file);
        Grammar grammar = grammarOptions.grammar();
        try (Model m = model.load(err); CachedSession session = new CachedSession(m.newSession())) {
            int[] tokens = m.tokenizer().encode(prompt, true, false);
            if (tokens.length == 0 && !interactiveFirst) throw new IllegalArgumentException("the prompt is empty (no BOS either): nothing to continue");
            if (tokens.length >= session.contextLength()) {
                throw new IllegalArgumentException("the prompt is " + tokens.length + " tokens, the context only "
                        + session.contextLength() + " (raise -c)");
            }
            if (verbosePrompt) {
                // llama.cpp's --verbose-prompt: the prompt, its token count, then each token and its text.
                err.println("panllama run: prompt: '" + prompt + "'");
                err.println("panllama run: number of tokens in prompt = " + tokens.length);
                for (int t : tokens) {
                    err.printf("%6d -> '%s'%n", t, new String(m.tokenizer().tokenToPiece(t, true), java.nio.charset.StandardCharsets.UTF_8));
                }
                err.flush();
            }
            if (!noDisplayPrompt) {
                out.print(prompt);
                out.flush();
            }
            // Shifting is on by default for a bounded -n only: with -n -1 a model that never ends its text
            // would generate forever (llama.cpp's default is off altogether).
            ContextShift shift = nPredict == -2 ? ContextShift.DISABLED : contextShift.shift(nPredict >= 0);
            CompletionSettings settings = new CompletionSettings(nPredict, params, reversePrompts, sampling.ignoreEos, shift, grammar, -1).withSpecialText(special);
            if (interactive || interactiveFirst) {
                Completion.Listener print = text -> {
                    out.print(color ? GENERATED_COLOR + text + RESET_COLOR : text);
                    out.flush();
                    return true;
                };
                var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));
                InteractiveRun mode = new InteractiveRun(interactiveFirst, Escapes.process(inPrefix), Escapes.process(inSuffix), inPrefixBos);
                CtrlC.install(() -> {
                    out.println();
                    out.flush();
                });
                InteractiveRun.Totals t = mode.run(session, m.tokenizer(), tokens, settings, in, out, print);
                out.println();
                out.flush();
                if (!noPerf) err.println(String.format(Locale.ROOT,
                        "panllama: load %d ms | prompt %d tokens, %.2f tok/s | generation %d tokens, %.2f tok/s | %s",
                        m.loadMillis(), t.promptTokens, t.promptTokens / Math.max(1e-9, t.promptNanos / 1e9),
                        t.generated, t.generated / Math.max(1e-9, t.generateNanos / 1e9), m.description()));
                err.flush();
                return 0;
            }
            if (color) out.print(GENERATED_COLOR);
            Completion c = new Completion(session, m.tokenizer(), tokens, settings, text -> {
                out.print(text);
                out.flush();
                return true;
            });
            int next = c.next(session.evaluate(c.pendingPrompt()));
            while (next != Completion.DONE) next = c.next(session.evaluate(next));
            Completion.Result st = c.result();
            if (color) out.print(RESET_COLOR);
            out.println();
            out.flush();
            if (st.finishReason() == Completion.FinishReason.LENGTH && nPredict >= 0 && st.completionTokens() < nPredict) {
                // -n asked for more than fit: say why the text stops short rather than end it silently
                err.println("panllama run: stopped after " + st.completionTokens() + " of -n " + nPredict
                        + " tokens: the context of " + session.contextLength() + " is full (raise -c" + (shift.enabled() ? "" : ", or drop --no-context-shift") + ")");
            }
            double promptSeconds = Math.max(1e-9, st.promptNanos() / 1e9);
            if (!noPerf) err.println(String.format(Locale.ROOT,
                    "panllama: load %d ms | prompt %d tokens, %.1f ms, %.2f tok/s | generation %d tokens, %.1f ms, %.2f tok/s | %s, seed %d",
                    m.loadMillis(), st.promptTokens(), st.promptNanos() / 1e6, st.promptTokens() / promptSeconds,
                    st.completionTokens(), st.generateNanos() / 1e6, st.generateTokensPerSecond(),
                    m.description(), c.seed()));
            err.flush();
        }
        return 0;
    }

    /** -cnv: the chat command's loop with this command's settings (llama-cli's conversation mode). */
    private int conversation(PrintWriter out, PrintWriter err) throws Exception {
        if (interactive || interactiveFirst) throw new IllegalArgumentException("-cnv and -i/-if: conversation mode is already interactive; give one");
        if (source != null && source.file != null) throw new IllegalArgumentException("-cnv takes its first message with -p, not -f");
        ChatCommand chat = new ChatCommand();
        chat.model = model;
        chat.sampling = sampling;
        chat.chatTemplate = chatTemplate;
        chat.contextShift = contextShift;
        chat.grammarOptions = grammarOptions;
        chat.systemPrompt = systemPrompt;
        chat.nPredict = nPredict;
        chat.reversePrompts = reversePrompts;
        chat.firstMessageText = source == null ? null : escape ? Escapes.process(source.text) : source.text;
        chat.singleTurn = singleTurn;
        return chat.converse(out, err);
    }

    /** llama-cli's colors: generated text yellow, then back to the terminal's default. */
    static final String GENERATED_COLOR = "\u001b[33m", RESET_COLOR = "\u001b[0m";

    /** llama.cpp's -n: a count, or -1 (until end of text) or -2 (until the context is full); other negatives mean nothing. */
    static void checkNPredict(int n) {
        if (n < -2) {
            throw new IllegalArgumentException("-n " + n + ": must be 0 or more, -1 (until end of text) or -2 (until the context is full)");
        }
    }
}
