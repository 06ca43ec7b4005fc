package dev.panllama.cli;

import dev.panllama.generate.CachedSession;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.tokenizer.Tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Arrays;

/**
 * llama-cli's interactive mode ({@code run -i}, {@code -if}): one running text, no chat template. The
 * model writes until a reverse prompt, an end of text or -n tokens, then the user's line (with
 * {@code --in-prefix} before it and {@code --in-suffix} after it, both printed) is added to the text as
 * typed, and the model goes on. An empty line lets the model go on without adding anything. An end of
 * text with reverse prompts given adds the first of them, as llama.cpp does, so that the exchange
 * keeps its shape. Ctrl-C stops the text being written and gives the turn to the user; Ctrl-C at the
 * user's turn, or the end of input, ends the program.
 *
 * @param first        -if: the user's turn comes first
 * @param inPrefix     text put before each user line (tokenized with special tokens allowed, as llama.cpp)
 * @param inSuffix     text put after each user line
 * @param inPrefixBos  a BOS token before each user line's prefix
 */
record InteractiveRun(boolean first, String inPrefix, String inSuffix, boolean inPrefixBos) {

    /** The totals over all turns, for the closing line. */
    static final class Totals {
        int promptTokens, generated;
        long promptNanos, generateNanos;

        void add(Completion.Result r) {
            promptTokens += r.promptTokens() - r.cachedTokens();
            generated += r.completionTokens();
            promptNanos += r.promptNanos();
            generateNanos += r.generateNanos();
        }
    }

    /**
     * Runs the exchange on {@code session} from {@code prompt} (already printed) until the end of input.
     * The listener prints each piece of text.
     */
    Totals run(CachedSession session, Tokenizer tokenizer, int[] prompt, CompletionSettings settings, BufferedReader in,
               PrintWriter out, Completion.Listener print) throws IOException {
        Totals totals = new Totals();
        int[] text = prompt;
        boolean userTurn = first;
        while (true) {
            if (userTurn) {
                out.print(inPrefix);
                out.flush();
                String line = readLine(in, out);
                if (line == null) break;
                if (!line.isEmpty()) {
                    out.print(inSuffix);
                    out.flush();
                    // llama-cli keeps the line's newline; prefix and suffix may name special tokens, the line may not
                    int[] typed = concat(inPrefixBos ? new int[]{tokenizer.bos()} : new int[0],
                            tokenizer.encode(inPrefix, false, true), tokenizer.encode(line + "\n", false, false),
                            tokenizer.encode(inSuffix, false, true));
                    text = concat(roomFor(session, settings, text, typed.length, prompt, tokenizer), typed);
                }
            }
            userTurn = true;
            if (text.length == 0) continue;        // -if and an empty first line: nothing to go on from
            CtrlC.replyStarted();
            Completion.Result r;
            try {
                r = Completion.run(session, tokenizer, text, settings, piece -> print.onText(piece) && !CtrlC.stopRequested());
            } finally {
                CtrlC.replyEnded();
            }
            totals.add(r);
            boolean endOfText = r.finishReason() == Completion.FinishReason.STOP && r.stoppingWord() == null;
            // What the text is now: the cache, plus the last token sampled when nothing evaluated it (all but an end of text).
            int[] last = !endOfText && r.tokens().length > 0 ? new int[]{r.tokens()[r.tokens().length - 1]} : new int[0];
            text = concat(session.tokens(), last);
            if (r.stoppingWord() != null) {
                out.print(r.stoppingWord());         // the reverse prompt is part of the text: show it
            } else if (endOfText && !settings.stop().isEmpty()) {
                String reverse = settings.stop().getFirst();
                out.print(reverse);
                text = concat(text, tokenizer.encode(reverse, false, true));
            }
            out.flush();
        }
        return totals;
    }

    /**
     * The text with room for {@code more} tokens and a reply: the context shifted as the settings allow
     * (keeping --keep tokens of the prompt), else refused.
     */
    private static int[] roomFor(CachedSession session, CompletionSettings settings, int[] text, int more, int[] prompt, Tokenizer tokenizer) {
        int kept = settings.contextShift().keptTokens(prompt.length, prompt.length > 0 && prompt[0] == tokenizer.bos());
        while (text.length + more + 1 >= session.contextLength()) {
            int cached = session.size();
            if (session.shift(settings.contextShift(), kept) == 0) {
                throw new IllegalStateException("the text is " + text.length + " tokens and " + more + " more do not fit in the context of "
                        + session.contextLength() + " tokens (raise -c" + (settings.contextShift().enabled() ? "" : ", or drop --no-context-shift") + ")");
            }
            // the tokens past the cache (the last sampled one) stay after what the shift kept
            text = concat(session.tokens(), Arrays.copyOfRange(text, Math.min(cached, text.length), text.length));
        }
        return text;
    }

    /** A line as typed; lines ending with a backslash go on with the next (llama-cli's multi-line input). */
    private static String readLine(BufferedReader in, PrintWriter out) throws IOException {
        StringBuilder sb = new StringBuilder();
        String line = in.readLine();
        if (line == null) return null;
        while (line != null && line.endsWith("\\")) {
            sb.append(line, 0, line.length() - 1).append('\n');
            line = in.readLine();
        }
        if (line != null) sb.append(line);
        return sb.toString();
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
