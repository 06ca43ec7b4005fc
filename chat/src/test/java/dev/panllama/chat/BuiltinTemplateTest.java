package dev.panllama.chat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The built-in formats against llama.cpp's test-chat-template: each public model's template is
 * recognised by its markers and formats llama.cpp's conversation into exactly the text llama.cpp's
 * llama_chat_apply_template produces (llama-cpp-chat-templates.json).
 */
class BuiltinTemplateTest {
    /**
     * Cases whose expected text is a format this llama.cpp version's own detection does not reach either
     * (the test file is newer than its llama_chat_detect_template): Phi-4 (detected as ChatML, which comes
     * first), GLM-Edge (detected as Falcon 3); and formats after Megrez in llama.cpp's chain, not built in.
     */
    private static final Set<String> NOT_BUILT_IN = Set.of("phi-4", "GLMEdge", "yandex/YandexGPT-5-Lite-8B-instruct",
            "inclusionAI/Ling-lite", "ByteDance-Seed/Seed-OSS-36B-Instruct");

    static List<Arguments> llamaCppCases() {
        List<Arguments> out = new ArrayList<>();
        for (JsonNode c : TemplateFixtures.load("llama-cpp-chat-templates.json").get("cases")) {
            String name = c.get("name").asText();
            if (!NOT_BUILT_IN.contains(name)) out.add(Arguments.of(name, c.get("template").asText(), c.get("expected").asText()));
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("llamaCppCases")
    void detectsAndFormatsAsLlamaCpp(String name, String template, String expected) {
        BuiltinTemplate builtin = BuiltinTemplate.detect(template).orElseThrow(() -> new AssertionError(name + " not recognised"));
        assertThat(builtin.render(TemplateFixtures.llamaCppConversation(), true)).isEqualTo(expected);
    }

    @Test
    void theFormatsLlamaCppRecognisesAreTheOnesItNames() {
        Map<String, BuiltinTemplate> expected = Map.of(
                "teknium/OpenHermes-2.5-Mistral-7B", BuiltinTemplate.CHATML,
                "Llama-3", BuiltinTemplate.LLAMA_3,
                "Phi-3-mini", BuiltinTemplate.PHI_3,
                "google/gemma-7b-it", BuiltinTemplate.GEMMA,
                "mistralai/Mistral-7B-Instruct-v0.2 (mistralai 'v1' template with a system prompt)", BuiltinTemplate.MISTRAL_V1,
                "Mistral-Large-Instruct-2407 (mistralai 'v3' template; modified to have system prompt at start)", BuiltinTemplate.MISTRAL_V3,
                "Mistral-Nemo-Instruct-2407 (mistralai 'v3-tekken' template; modified to have system prompt at start)", BuiltinTemplate.MISTRAL_V3_TEKKEN,
                "bofenghuang/vigogne-2-70b-chat", BuiltinTemplate.LLAMA_2_SYS_STRIP,
                "TheBloke/FusionNet_34Bx2_MoE-AWQ", BuiltinTemplate.LLAMA_2_SYS_BOS,
                "mistralai/Mistral-7B-Instruct-v0.2 (NOTE: Old pre-v1 without a system prompt)", BuiltinTemplate.LLAMA_2);
        expected.forEach((name, format) ->
                assertThat(BuiltinTemplate.detect(TemplateFixtures.template(name).source())).as(name).contains(format));
    }

    @Test
    void formatNamesAreLlamaCpps() {
        assertThat(BuiltinTemplate.byName("chatml")).contains(BuiltinTemplate.CHATML);
        assertThat(BuiltinTemplate.byName("llama2-sys-strip")).contains(BuiltinTemplate.LLAMA_2_SYS_STRIP);
        assertThat(BuiltinTemplate.detect("llama3")).contains(BuiltinTemplate.LLAMA_3);
        assertThat(BuiltinTemplate.detect("INVALID TEMPLATE")).isEmpty();
    }

    @Test
    void chatMlWithoutGenerationPrompt() {
        assertThat(BuiltinTemplate.CHATML.render(List.of(ChatMessage.user("Hi")), false)).isEqualTo("<|im_start|>user\nHi<|im_end|>\n");
    }
}
