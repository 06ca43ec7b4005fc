package dev.panllama.chat;

import dev.panllama.gguf.GgufMetadata;
import dev.panllama.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A model's chat template together with its tokenizer: renders a conversation and tokenizes it the way
 * llama.cpp's server does (special-token text becomes special tokens; the template's own BOS text is
 * dropped when the tokenizer adds BOS anyway, and a trailing EOS text when it adds EOS).
 *
 * <p>Which template, as llama.cpp chooses: an explicit one ({@code --chat-template}: a built-in name,
 * or Jinja source), else the file's {@code tokenizer.chat_template}, else ChatML. Jinja sources are
 * rendered by {@link JinjaTemplate}; with {@code jinja = false} they are instead recognised as one of
 * the {@link BuiltinTemplate}s, as llama.cpp does without {@code --jinja}.
 */
public final class ChatFormat {
    public static final String TEMPLATE_KEY = "tokenizer.chat_template";

    private final ChatTemplate template;
    private final Tokenizer tokenizer;
    private final String bosText;
    private final String eosText;

    public ChatFormat(ChatTemplate template, Tokenizer tokenizer) {
        this.template = template;
        this.tokenizer = tokenizer;
        this.bosText = tokenText(tokenizer, tokenizer.bos());
        this.eosText = tokenText(tokenizer, tokenizer.eos());
    }

    /** The model's own template (Jinja), or ChatML when its file has none. */
    public static ChatFormat forModel(GgufMetadata metadata, Tokenizer tokenizer) {
        return forModel(metadata, tokenizer, null, true);
    }

    /**
     * @param override a built-in name or a Jinja source that replaces the model's template; null for the model's
     * @param jinja    render Jinja sources (true), or map them to a built-in format by their markers (false)
     * @throws ChatTemplateException when {@code jinja} is false and no built-in format matches the source
     */
    public static ChatFormat forModel(GgufMetadata metadata, Tokenizer tokenizer, String override, boolean jinja) {
        String source = override != null ? override : metadata.contains(TEMPLATE_KEY) ? metadata.getString(TEMPLATE_KEY) : null;
        String origin = override != null ? "--chat-template" : "the model";
        if (source == null || source.isEmpty()) return new ChatFormat(BuiltinTemplate.CHATML, tokenizer);
        var builtin = BuiltinTemplate.byName(source);
        if (builtin.isPresent()) return new ChatFormat(builtin.get(), tokenizer);
        if (override != null && !source.contains("{{") && !source.contains("{%")) {
            // Without a single tag this is no Jinja template but a mistyped name.
            throw new ChatTemplateException("unknown chat template '" + source + "' (built-in formats: " + BuiltinTemplate.names()
                    + "; or give Jinja source)");
        }
        if (jinja) {
            return new ChatFormat(new JinjaTemplate(source, tokenText(tokenizer, tokenizer.bos()),
                    tokenText(tokenizer, tokenizer.eos()), origin), tokenizer);
        }
        return new ChatFormat(BuiltinTemplate.detect(source).orElseThrow(() -> new ChatTemplateException(
                "the chat template from " + origin + " is none of the built-in formats (" + BuiltinTemplate.names()
                        + "); render it as Jinja or name one of those")), tokenizer);
    }

    public ChatTemplate template() { return template; }

    public Tokenizer tokenizer() { return tokenizer; }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return template.render(messages, addGenerationPrompt);
    }

    /** The conversation rendered with the tools the model may call (for templates that render them), and tokenized. */
    public int[] encode(List<ChatMessage> messages, List<ToolDefinition> tools, boolean addGenerationPrompt) {
        return encode(template.render(messages, tools, addGenerationPrompt));
    }

    /** The conversation rendered and tokenized: the prompt to evaluate. */
    public int[] encode(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return encode(render(messages, addGenerationPrompt));
    }

    /** Tokenizes rendered chat text with special tokens parsed, without doubling BOS/EOS (llama.cpp's common_chat_templates_apply). */
    public int[] encode(String rendered) {
        String text = rendered;
        if (tokenizer.addBos() && !bosText.isEmpty() && text.startsWith(bosText)) text = text.substring(bosText.length());
        if (tokenizer.addEos() && !eosText.isEmpty() && text.endsWith(eosText)) text = text.substring(0, text.length() - eosText.length());
        return tokenizer.encode(text, true, true);
    }

    private static String tokenText(Tokenizer tokenizer, int token) {
        return token < 0 ? "" : new String(tokenizer.tokenToPiece(token, true), StandardCharsets.UTF_8);
    }
}
