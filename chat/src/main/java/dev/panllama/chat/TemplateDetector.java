package dev.panllama.chat;

import static dev.panllama.chat.BuiltinTemplate.*;

/**
 * Recognises a Jinja chat template by marker strings, as llama.cpp's llama_chat_detect_template does:
 * the same markers in the same order, so that a template both would misread is misread the same way.
 * The chain stops after Megrez; llama.cpp's later formats (Bailing, Llama 4, ...) are not built in.
 */
final class TemplateDetector {
    private TemplateDetector() {}

    static BuiltinTemplate detect(String t) {
        if (has(t, "<|im_start|>")) return CHATML;
        if (t.startsWith("mistral") || has(t, "[INST]")) return mistralOrLlama2(t);
        if (has(t, "[gMASK]sop")) return CHATGLM_3;
        if (has(t, "[gMASK]<sop>")) return CHATGLM_4;
        if (has(t, "<|assistant|>") && has(t, "<|end|>")) return PHI_3;
        if (has(t, "<|assistant|>") && has(t, "<|user|>")) return FALCON_3;
        if (has(t, "<|user|>") && has(t, "<|endoftext|>")) return ZEPHYR;
        if (has(t, "bos_token + message['role']")) return MONARCH;
        if (has(t, "<start_of_turn>")) return GEMMA;
        if (has(t, "'\\n\\nAssistant: ' + eos_token")) return ORION;
        if (has(t, "GPT4 Correct ")) return OPENCHAT;
        if (has(t, "USER: ") && has(t, "ASSISTANT: ")) return has(t, "SYSTEM: ") ? VICUNA_ORCA : VICUNA;
        if (has(t, "### Instruction:") && has(t, "<|EOT|>")) return DEEPSEEK;
        if (has(t, "<|START_OF_TURN_TOKEN|>") && has(t, "<|USER_TOKEN|>")) return COMMAND_R;
        if (has(t, "<|start_header_id|>") && has(t, "<|end_header_id|>")) return LLAMA_3;
        if (has(t, "<用户>")) return MINICPM;
        if (has(t, "'Assistant: ' + message['content'] + eos_token")) return DEEPSEEK_2;
        if (has(t, "<｜Assistant｜>") && has(t, "<｜User｜>") && has(t, "<｜end▁of▁sentence｜>")) return DEEPSEEK_3;
        if (has(t, "[|system|]") && has(t, "[|assistant|]") && has(t, "[|endofturn|]")) return EXAONE_3;
        if (has(t, "rwkv-world")) return RWKV_WORLD;
        if (has(t, "<|start_of_role|>")) return GRANITE;
        if (has(t, "message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]")) return GIGACHAT;
        if (has(t, "<|role_start|>")) return MEGREZ;
        return null;
    }

    private static BuiltinTemplate mistralOrLlama2(String t) {
        if (has(t, "[SYSTEM_PROMPT]")) return MISTRAL_V7;
        // Mistral's official v1, v3 and v3-tekken templates (v1 by its system-message line, v3 by its tools block).
        if (has(t, "' [INST] ' + system_message") || has(t, "[AVAILABLE_TOOLS]")) {
            if (has(t, " [INST]")) return MISTRAL_V1;
            if (has(t, "\"[INST]\"")) return MISTRAL_V3_TEKKEN;
            return MISTRAL_V3;
        }
        if (has(t, "content.strip()")) return LLAMA_2_SYS_STRIP;
        if (has(t, "bos_token + '[INST]")) return LLAMA_2_SYS_BOS;
        if (has(t, "<<SYS>>")) return LLAMA_2_SYS;
        return LLAMA_2;
    }

    private static boolean has(String t, String marker) {
        return t.contains(marker);
    }
}
