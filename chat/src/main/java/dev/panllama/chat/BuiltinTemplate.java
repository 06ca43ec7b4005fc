package dev.panllama.chat;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * llama.cpp's built-in chat formats (src/llama.cpp, llama_chat_apply_template_internal, ik_llama.cpp
 * 8337e4cd): what llama.cpp uses without a Jinja engine, chosen by name ({@code --chat-template chatml})
 * or recognised in a model's template source by {@link #detect}. Each formats a conversation exactly as
 * llama.cpp does, including its quirks (which messages are trimmed, where a system message goes when
 * the format has none); where ik_llama.cpp's code and llama.cpp's test-chat-template disagree (GLM-4's
 * and Granite's generation prompts) the test, which matches those models' own templates, is followed.
 * ChatML is the fallback for models whose file has no template.
 */
public enum BuiltinTemplate implements ChatTemplate {
    CHATML("chatml") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
            if (gen) sb.append("<|im_start|>assistant\n");
        }
    },
    LLAMA_2("llama2") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) { llama2(chat, sb, false, false, false); }
    },
    LLAMA_2_SYS("llama2-sys") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) { llama2(chat, sb, true, false, false); }
    },
    LLAMA_2_SYS_BOS("llama2-sys-bos") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) { llama2(chat, sb, true, true, false); }
    },
    LLAMA_2_SYS_STRIP("llama2-sys-strip") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) { llama2(chat, sb, true, false, true); }
    },
    MISTRAL_V1("mistral-v1") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) { mistral(chat, sb, " ", " ", false); }
    },
    MISTRAL_V3("mistral-v3") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) { mistral(chat, sb, "", " ", true); }
    },
    MISTRAL_V3_TEKKEN("mistral-v3-tekken") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) { mistral(chat, sb, "", "", false); }
    },
    MISTRAL_V7("mistral-v7") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) {
                switch (m.role()) {
                    case "system" -> sb.append("[SYSTEM_PROMPT] ").append(m.content()).append("[/SYSTEM_PROMPT]");
                    case "user" -> sb.append("[INST] ").append(m.content()).append("[/INST]");
                    default -> sb.append(' ').append(m.content()).append("</s>");
                }
            }
        }
    },
    PHI_3("phi3") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) sb.append("<|").append(m.role()).append("|>\n").append(m.content()).append("<|end|>\n");
            if (gen) sb.append("<|assistant|>\n");
        }
    },
    FALCON_3("falcon3") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) sb.append("<|").append(m.role()).append("|>\n").append(m.content()).append('\n');
            if (gen) sb.append("<|assistant|>\n");
        }
    },
    FALCON_E("falcon_e") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) sb.append(m.role()).append(m.content()).append('\n');
            if (gen) sb.append("assistant\n");
        }
    },
    ZEPHYR("zephyr") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) sb.append("<|").append(m.role()).append("|>\n").append(m.content()).append("<|endoftext|>\n");
            if (gen) sb.append("<|assistant|>\n");
        }
    },
    MONARCH("monarch") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (int i = 0; i < chat.size(); i++) {
                ChatMessage m = chat.get(i);
                // BOS inside the history, but not before the first message (the tokenizer adds that one).
                sb.append(i == 0 ? "" : "<s>").append(m.role()).append('\n').append(m.content()).append("</s>\n");
            }
            if (gen) sb.append("<s>assistant\n");
        }
    },
    GEMMA("gemma") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            String system = "";       // Gemma has no system role: the system text opens the next user turn
            for (ChatMessage m : chat) {
                if (m.role().equals("system")) {
                    system = trim(m.content());
                    continue;
                }
                String role = m.role().equals("assistant") ? "model" : m.role();
                sb.append("<start_of_turn>").append(role).append('\n');
                if (!system.isEmpty() && !role.equals("model")) {
                    sb.append(system).append("\n\n");
                    system = "";
                }
                sb.append(trim(m.content())).append("<end_of_turn>\n");
            }
            if (gen) sb.append("<start_of_turn>model\n");
        }
    },
    ORION("orion") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            String system = "";
            for (ChatMessage m : chat) {
                switch (m.role()) {
                    case "system" -> system = m.content();
                    case "user" -> {
                        sb.append("Human: ");
                        if (!system.isEmpty()) {
                            sb.append(system).append("\n\n");
                            system = "";
                        }
                        sb.append(m.content()).append("\n\nAssistant: </s>");
                    }
                    default -> sb.append(m.content()).append("</s>");
                }
            }
        }
    },
    OPENCHAT("openchat") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) {
                if (m.role().equals("system")) {
                    sb.append(m.content()).append("<|end_of_turn|>");
                } else {
                    String role = Character.toUpperCase(m.role().charAt(0)) + m.role().substring(1);
                    sb.append("GPT4 Correct ").append(role).append(": ").append(m.content()).append("<|end_of_turn|>");
                }
            }
            if (gen) sb.append("GPT4 Correct Assistant:");
        }
    },
    VICUNA("vicuna") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) { vicuna(chat, gen, sb, false); }
    },
    VICUNA_ORCA("vicuna-orca") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) { vicuna(chat, gen, sb, true); }
    },
    DEEPSEEK("deepseek") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) {
                switch (m.role()) {
                    case "system" -> sb.append(m.content());
                    case "user" -> sb.append("### Instruction:\n").append(m.content()).append('\n');
                    case "assistant" -> sb.append("### Response:\n").append(m.content()).append("\n<|EOT|>\n");
                    default -> { }
                }
            }
            if (gen) sb.append("### Response:\n");
        }
    },
    COMMAND_R("command-r") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) {
                String token = switch (m.role()) {
                    case "system" -> "<|SYSTEM_TOKEN|>";
                    case "user" -> "<|USER_TOKEN|>";
                    case "assistant" -> "<|CHATBOT_TOKEN|>";
                    default -> null;
                };
                if (token != null) sb.append("<|START_OF_TURN_TOKEN|>").append(token).append(trim(m.content())).append("<|END_OF_TURN_TOKEN|>");
            }
            if (gen) sb.append("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>");
        }
    },
    LLAMA_3("llama3") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) {
                sb.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n").append(trim(m.content())).append("<|eot_id|>");
            }
            if (gen) sb.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        }
    },
    CHATGLM_3("chatglm3") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            sb.append("[gMASK]sop");
            for (ChatMessage m : chat) sb.append("<|").append(m.role()).append("|>\n ").append(m.content());
            if (gen) sb.append("<|assistant|>");
        }
    },
    CHATGLM_4("chatglm4") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            sb.append("[gMASK]<sop>");
            for (ChatMessage m : chat) sb.append("<|").append(m.role()).append("|>\n").append(m.content());
            if (gen) sb.append("<|assistant|>\n");     // as GLM-4's own template and llama.cpp's test expect
        }
    },
    MINICPM("minicpm") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) {
                if (m.role().equals("user")) sb.append("<用户>").append(trim(m.content())).append("<AI>");
                else sb.append(trim(m.content()));
            }
        }
    },
    DEEPSEEK_2("deepseek2") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) {
                switch (m.role()) {
                    case "system" -> sb.append(m.content()).append("\n\n");
                    case "user" -> sb.append("User: ").append(m.content()).append("\n\n");
                    case "assistant" -> sb.append("Assistant: ").append(m.content()).append("<｜end▁of▁sentence｜>");
                    default -> { }
                }
            }
            if (gen) sb.append("Assistant:");
        }
    },
    DEEPSEEK_3("deepseek3") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) {
                switch (m.role()) {
                    case "system" -> sb.append(m.content()).append("\n\n");
                    case "user" -> sb.append("<｜User｜>").append(m.content());
                    case "assistant" -> sb.append("<｜Assistant｜>").append(m.content()).append("<｜end▁of▁sentence｜>");
                    default -> { }
                }
            }
            if (gen) sb.append("<｜Assistant｜>");
        }
    },
    EXAONE_3("exaone3") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) {
                switch (m.role()) {
                    case "system" -> sb.append("[|system|]").append(trim(m.content())).append("[|endofturn|]\n");
                    case "user" -> sb.append("[|user|]").append(trim(m.content())).append('\n');
                    case "assistant" -> sb.append("[|assistant|]").append(trim(m.content())).append("[|endofturn|]\n");
                    default -> { }
                }
            }
            if (gen) sb.append("[|assistant|]");
        }
    },
    RWKV_WORLD("rwkv-world") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) {
                if (m.role().equals("user")) sb.append("User: ").append(m.content()).append("\n\nAssistant:");
                else sb.append(m.content()).append("\n\n");
            }
        }
    },
    GRANITE("granite") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) {
                sb.append("<|start_of_role|>").append(m.role()).append("<|end_of_role|>");
                if (m.role().equals("assistant_tool_call")) sb.append("<|tool_call|>");
                sb.append(m.content()).append("<|end_of_text|>\n");
            }
            if (gen) sb.append("<|start_of_role|>assistant<|end_of_role|>");    // no newline: Granite's own template
        }
    },
    GIGACHAT("gigachat") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            boolean system = !chat.isEmpty() && chat.getFirst().role().equals("system");
            sb.append("<s>");
            if (system) sb.append(chat.getFirst().content()).append("<|message_sep|>");
            for (ChatMessage m : chat.subList(system ? 1 : 0, chat.size())) {
                switch (m.role()) {
                    case "user" -> sb.append("user<|role_sep|>").append(m.content())
                            .append("<|message_sep|>available functions<|role_sep|>[]<|message_sep|>");
                    case "assistant" -> sb.append("assistant<|role_sep|>").append(m.content()).append("<|message_sep|>");
                    default -> { }
                }
            }
            if (gen) sb.append("assistant<|role_sep|>");
        }
    },
    MEGREZ("megrez") {
        @Override
        void format(List<ChatMessage> chat, boolean gen, StringBuilder sb) {
            for (ChatMessage m : chat) sb.append("<|role_start|>").append(m.role()).append("<|role_end|>").append(m.content()).append("<|turn_end|>");
            if (gen) sb.append("<|role_start|>assistant<|role_end|>");
        }
    };

    private final String id;

    BuiltinTemplate(String id) {
        this.id = id;
    }

    /** The name llama.cpp gives this format ({@code --chat-template NAME}). */
    public String id() { return id; }

    abstract void format(List<ChatMessage> chat, boolean addGenerationPrompt, StringBuilder sb);

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        format(messages, addGenerationPrompt, sb);
        return sb.toString();
    }

    @Override
    public String description() { return id + " (built in)"; }

    /** The format with llama.cpp's name {@code id}. */
    public static Optional<BuiltinTemplate> byName(String id) {
        return Arrays.stream(values()).filter(t -> t.id.equals(id)).findFirst();
    }

    /** The names of all built-in formats, for messages. */
    public static String names() {
        return Arrays.stream(values()).map(BuiltinTemplate::id).collect(Collectors.joining(", "));
    }

    /**
     * The built-in format a Jinja template source stands for, recognised by the marker strings llama.cpp
     * looks for (llama_chat_detect_template), in its order; a format name is accepted as well. Empty
     * when nothing matches, or when llama.cpp's match is a format not built in here.
     */
    public static Optional<BuiltinTemplate> detect(String source) {
        Optional<BuiltinTemplate> named = byName(source);
        if (named.isPresent()) return named;
        return Optional.ofNullable(TemplateDetector.detect(source));
    }

    /** llama.cpp's trim: ASCII whitespace (isspace) off both ends. */
    static String trim(String s) {
        int start = 0, end = s.length();
        while (start < end && isSpace(s.charAt(start))) start++;
        while (end > start && isSpace(s.charAt(end - 1))) end--;
        return s.substring(start, end);
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == '\f';
    }

    /** Llama 2 and its variants: system message in {@code <<SYS>>} (or plain), BOS inside the history, trimmed messages. */
    private static void llama2(List<ChatMessage> chat, StringBuilder sb, boolean systemBlock, boolean bosInHistory, boolean strip) {
        boolean insideTurn = true;     // the first [INST] comes without BOS: the tokenizer adds that one
        sb.append("[INST] ");
        for (ChatMessage m : chat) {
            String content = strip ? trim(m.content()) : m.content();
            if (!insideTurn) {
                insideTurn = true;
                sb.append(bosInHistory ? "<s>[INST] " : "[INST] ");
            }
            switch (m.role()) {
                case "system" -> {
                    if (systemBlock) sb.append("<<SYS>>\n").append(content).append("\n<</SYS>>\n\n");
                    else sb.append(content).append('\n');
                }
                case "user" -> sb.append(content).append(" [/INST]");
                default -> {
                    sb.append(content).append("</s>");
                    insideTurn = false;
                }
            }
        }
    }

    /** Mistral v1, v3 and v3-tekken differ in the spaces around [INST] and in trimming the assistant's text. */
    private static void mistral(List<ChatMessage> chat, StringBuilder sb, String lead, String trail, boolean trimAssistant) {
        boolean insideTurn = false;
        for (ChatMessage m : chat) {
            if (!insideTurn) {
                sb.append(lead).append("[INST]").append(trail);
                insideTurn = true;
            }
            switch (m.role()) {
                case "system" -> sb.append(m.content()).append("\n\n");
                case "user" -> sb.append(m.content()).append(lead).append("[/INST]");
                default -> {
                    sb.append(trail).append(trimAssistant ? trim(m.content()) : m.content()).append("</s>");
                    insideTurn = false;
                }
            }
        }
    }

    private static void vicuna(List<ChatMessage> chat, boolean gen, StringBuilder sb, boolean orca) {
        for (ChatMessage m : chat) {
            switch (m.role()) {
                case "system" -> {
                    if (orca) sb.append("SYSTEM: ").append(m.content()).append('\n');
                    else sb.append(m.content()).append("\n\n");
                }
                case "user" -> sb.append("USER: ").append(m.content()).append('\n');
                case "assistant" -> sb.append("ASSISTANT: ").append(m.content()).append("</s>\n");
                default -> { }
            }
        }
        if (gen) sb.append("ASSISTANT:");
    }
}
