package dev.panllama.cli;

import dev.panllama.generate.CachedSession;
import dev.panllama.chat.ChatFormat;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.model.ContextShift;
import dev.panllama.chat.Conversation;
import dev.panllama.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * {@code panllama chat}: an interactive conversation (like llama-cli's conversation mode). Each line
 * read is a user message; the reply streams as it is generated. The KV cache is kept between turns,
 * so each turn evaluates only its new tokens. {@code /exit} (or end of input) ends, {@code /clear}
 * starts over.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with the model, using its chat template (like llama-cli -cnv).",
                "Each line typed is a message, the reply streams back; the KV cache is kept between turns.",
                "/help lists the commands; /exit (or end of input) quits, /clear starts a new conversation; Ctrl-C stops a reply."})
final class ChatCommand extends ToolCommand {
    @Mixin
    ModelOptionsMixin model;

    @Mixin
    SamplingOptionsMixin sampling;

    @Mixin
    ChatTemplateOptionsMixin chatTemplate;

    @Mixin
    ContextShiftOptionsMixin contextShift;

    @Mixin
    GrammarOptionsMixin grammarOptions;

    @Option(names = {"-sys", "--system-prompt"}, paramLabel = "TEXT", description = "System message that opens the conversation")
    String systemPrompt;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "-1",
            description = "Most tokens per reply; -1 = until end of turn or a full context (default: ${DEFAULT-VALUE})")
    int nPredict;

    @Option(names = {"-r", "--reverse-prompt"}, paramLabel = "TEXT", description = "Stop a reply at this text (repeatable)")
    List<String> reversePrompts = List.of();

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "The first message, sent at once (llama-cli -cnv's -p)")
    String firstMessage;

    /** The first message as sent (escapes processed). */
    String firstMessageText;

    @Option(names = {"-st", "--single-turn"}, description = "Quit after the first reply")
    boolean singleTurn;

    @Override
    int run(PrintWriter out, PrintWriter err) throws Exception {
        if (firstMessage != null) firstMessageText = Escapes.process(firstMessage);
        return converse(out, err);
    }

    /** The conversation loop, also {@code run -cnv}'s. */
    int converse(PrintWriter out, PrintWriter err) throws Exception {
        RunCommand.checkNPredict(nPredict);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        // -n -2: until the context is full, so no shift (llama.cpp's meaning).
        CompletionSettings settings = new CompletionSettings(nPredict, sampling.params(), reversePrompts, sampling.ignoreEos,
                nPredict == -2 ? ContextShift.DISABLED : contextShift.shift(nPredict >= 0)).withGrammar(grammarOptions.grammar());
        chatTemplate.override();
        try (Model m = model.load(err)) {
            ChatFormat format = chatTemplate.format(m);
            err.printf("panllama chat: %s | context %d tokens | chat template %s | /exit to quit, /clear to start over, /help for more%n",
                    m.path().getFileName(), m.defaultContextLength(), format.template().description());
            err.flush();
            Totals totals = new Totals();
            CtrlC.install(() -> {
                out.println();
                out.flush();
                err.println(totals.line());
                err.flush();
            });
            try (Conversation chat = new Conversation(format, new CachedSession(m.newSession()))) {
                if (systemPrompt != null) chat.system(systemPrompt);
                String pending = firstMessageText;
                while (true) {
                    out.print("> ");
                    out.flush();
                    String line;
                    if (pending != null) {
                        line = pending;          // -p: the first message, as if typed
                        out.println(line);
                        pending = null;
                    } else {
                        line = readMessage(in, out);
                    }
                    if (line == null || line.strip().equals("/exit")) break;
                    if (line.strip().equals("/clear")) {
                        chat.clear();
                        if (systemPrompt != null) chat.system(systemPrompt);
                        continue;
                    }
                    if (line.strip().equals("/help")) {
                        out.println(HELP);
                        out.flush();
                        continue;
                    }
                    if (line.startsWith("/") && !line.startsWith("//")) {
                        // Not a message to the model: a mistyped command would otherwise be sent as one.
                        err.println("panllama chat: unknown command " + line.strip().split("\\s+")[0] + " (/help lists them; start a message with // to send a /)");
                        err.flush();
                        continue;
                    }
                    if (line.startsWith("//")) line = line.substring(1);
                    if (line.isBlank()) continue;
                    CtrlC.replyStarted();
                    try {
                        Completion.Result r = chat.send(line, settings, text -> {
                            out.print(text);
                            out.flush();
                            return !CtrlC.stopRequested();
                        });
                        totals.add(r);
                    } catch (IllegalStateException e) {
                        err.println("panllama chat: " + e.getMessage());
                        err.flush();
                    } finally {
                        if (CtrlC.replyEnded()) {
                            out.print(" [stopped]");
                        }
                    }
                    out.println();
                    out.flush();
                    if (singleTurn) break;
                }
            }
            out.println();
            out.flush();
            err.println(totals.line());
            err.flush();
        }
        return 0;
    }

    private static final String HELP = """
            /help   this list
            /clear  forget the conversation (the system message stays)
            /exit   quit (so does the end of input, or Ctrl-C between replies)
            Ctrl-C while a reply is written stops it. A line ending with \\ goes on on the next line;
            a message starting with / is written //.""";

    /** One message: lines ending with a backslash are joined with the next (multi-line input). Null at the end of input. */
    private static String readMessage(BufferedReader in, PrintWriter out) throws java.io.IOException {
        String line = in.readLine();
        if (line == null) return null;
        StringBuilder message = new StringBuilder();
        while (line != null && line.endsWith("\\")) {
            message.append(line, 0, line.length() - 1).append('\n');
            out.print("... ");
            out.flush();
            line = in.readLine();
        }
        if (line != null) message.append(line);
        return message.toString();
    }

    /** What the closing line reports: turns, prompt tokens evaluated and reused, generation speed. */
    private static final class Totals {
        int turns;
        long prompt, cached, generated, generateNanos;

        void add(Completion.Result r) {
            turns++;
            prompt += r.promptTokens() - r.cachedTokens();
            cached += r.cachedTokens();
            generated += r.completionTokens();
            generateNanos += r.generateNanos();
        }

        String line() {
            return String.format(Locale.ROOT, "panllama chat: %d turn%s | prompt %d tokens evaluated, %d from the cache | generation %d tokens, %.2f tok/s",
                    turns, turns == 1 ? "" : "s", prompt, cached, generated, generated / Math.max(1e-9, generateNanos / 1e9));
        }
    }
}
