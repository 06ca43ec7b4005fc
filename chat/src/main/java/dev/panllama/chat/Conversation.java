package dev.panllama.chat;

import dev.panllama.generate.CachedSession;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.model.Model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A multi-turn chat with a model: the messages so far, formatted by the model's chat template, and one
 * session whose KV cache is kept between turns. Each turn renders the whole conversation, and only the
 * tokens after the part the cache already holds are evaluated: the new user message (and whatever the
 * template puts around it), never the history again.
 *
 * <pre>{@code
 * try (Model model = Model.load(path, ModelOptions.DEFAULTS);
 *      Conversation chat = Conversation.start(model)) {
 *     chat.send("Hello!", CompletionSettings.of(64, SamplerParams.GREEDY), text -> { System.out.print(text); return true; });
 * }
 * }</pre>
 */
public final class Conversation implements AutoCloseable {
    private final ChatFormat format;
    private final CachedSession session;
    private final List<ChatMessage> messages = new ArrayList<>();

    public Conversation(ChatFormat format, CachedSession session) {
        this.format = format;
        this.session = session;
    }

    /** A conversation with the model's own chat template (ChatML when its file has none) and a new session. */
    public static Conversation start(Model model) {
        return new Conversation(ChatFormat.forModel(model.metadata(), model.tokenizer()), new CachedSession(model.newSession()));
    }

    public ChatFormat format() { return format; }

    public List<ChatMessage> messages() { return Collections.unmodifiableList(messages); }

    /** Tokens in the KV cache. */
    public int cachedTokens() { return session.size(); }

    public int contextLength() { return session.contextLength(); }

    /** Sets the system message; only before the first turn, since the cache holds the history behind it. */
    public void system(String text) {
        if (!messages.isEmpty()) throw new IllegalStateException("the system message goes before the first turn");
        messages.add(ChatMessage.system(text));
    }

    /**
     * Adds the user's message, generates the assistant's reply (streamed to {@code listener}) and adds it
     * to the conversation, complete or, when cancelled, as far as it got.
     *
     * @throws IllegalStateException when the conversation no longer fits in the context (nothing is added)
     */
    public Completion.Result send(String userText, CompletionSettings settings, Completion.Listener listener) {
        messages.add(ChatMessage.user(userText));
        int[] prompt;
        try {
            prompt = format.encode(messages, true);
        } catch (RuntimeException e) {
            messages.removeLast();
            throw e;
        }
        if (prompt.length >= session.contextLength()) {
            messages.removeLast();
            throw new IllegalStateException("the conversation is " + prompt.length + " tokens and no longer fits in the context of "
                    + session.contextLength() + " tokens: start a new one (or use a larger context)");
        }
        Completion.Result result = Completion.run(session, format.tokenizer(), prompt, settings, listener);
        messages.add(ChatMessage.assistant(result.text()));
        return result;
    }

    /** Forgets the messages (the system message too) and the cache. */
    public void clear() {
        messages.clear();
        session.clear();
    }

    @Override
    public void close() {
        session.close();
    }
}
