package dev.panllama.chat;

/** A chat template that cannot be parsed or rendered, or that rejected the conversation (raise_exception). */
public final class ChatTemplateException extends RuntimeException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
