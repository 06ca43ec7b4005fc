package dev.panllama.chat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.panllama.sampling.Grammar;
import dev.panllama.sampling.GrammarMatcher;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Tool-call formats: detection by template, parsing replies in each family's format, and the grammars that force a call. */
class ToolCallsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<ToolDefinition> TOOLS;

    static {
        try {
            TOOLS = List.of(new ToolDefinition("get_weather", "The weather in a city",
                            JSON.readTree("{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}")),
                    new ToolDefinition("now", "The time", null));
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static ChatTemplate template(String source) {
        return new JinjaTemplate(source, "<s>", "</s>", "a test");
    }

    private static boolean allows(Grammar g, String text) {
        GrammarMatcher m = new GrammarMatcher(g);
        return m.accept(text.getBytes(StandardCharsets.UTF_8)) && m.canEnd();
    }

    @Test
    void formatsAreFoundInTheTemplate() {
        assertThat(ToolCalls.detect(template("{{ '<tool_call>' }}"))).isEqualTo(ToolCalls.Format.HERMES);
        assertThat(ToolCalls.detect(template("{{ '[TOOL_CALLS]' }}"))).isEqualTo(ToolCalls.Format.MISTRAL);
        assertThat(ToolCalls.detect(template("{{ '<|python_tag|>' }}"))).isEqualTo(ToolCalls.Format.LLAMA3);
        assertThat(ToolCalls.detect(template("{{ '<｜tool▁calls▁begin｜>' }}"))).isEqualTo(ToolCalls.Format.DEEPSEEK);
        assertThat(ToolCalls.detect(BuiltinTemplate.byName("chatml").orElseThrow())).isEqualTo(ToolCalls.Format.GENERIC);
    }

    @Test
    void repliesParseInEachFormat() {
        var hermes = new ToolCalls(template("<tool_call>"), TOOLS, ToolCalls.Choice.AUTO, true).parse(
                "Let me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>{\"name\": \"now\", \"arguments\": {}}</tool_call>");
        assertThat(hermes.content()).isEqualTo("Let me look.");
        assertThat(hermes.calls()).extracting(ToolCall::name).containsExactly("get_weather", "now");
        assertThat(hermes.calls().getFirst().arguments()).isEqualTo("{\"city\":\"Paris\"}");
        assertThat(hermes.calls().getFirst().id()).startsWith("call_");

        var llama = new ToolCalls(template("<|python_tag|>"), TOOLS, ToolCalls.Choice.AUTO, false)
                .parse("<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}");
        assertThat(llama.content()).isNull();
        assertThat(llama.calls().getFirst().arguments()).isEqualTo("{\"city\":\"Oslo\"}");

        var mistral = new ToolCalls(template("[TOOL_CALLS]"), TOOLS, ToolCalls.Choice.AUTO, false)
                .parse("[TOOL_CALLS][{\"name\": \"now\", \"arguments\": {}}]");
        assertThat(mistral.calls()).extracting(ToolCall::name).containsExactly("now");

        var deepseek = new ToolCalls(template("tool▁calls▁begin"), TOOLS, ToolCalls.Choice.AUTO, false).parse(
                "Sure.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Rome\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>");
        assertThat(deepseek.content()).isEqualTo("Sure.");
        assertThat(deepseek.calls().getFirst().arguments()).isEqualTo("{\"city\":\"Rome\"}");

        var generic = new ToolCalls(BuiltinTemplate.byName("chatml").orElseThrow(), TOOLS, ToolCalls.Choice.AUTO, false);
        assertThat(generic.parse("{\"tool_call\": {\"name\": \"now\", \"arguments\": {}}}").calls()).hasSize(1);
        assertThat(generic.parse("{\"response\": \"It is sunny.\"}")).isEqualTo(new ToolCalls.Parsed("It is sunny.", List.of()));

        // Plain text, or a call of an unknown tool, stays text.
        var plain = new ToolCalls(template("<tool_call>"), TOOLS, ToolCalls.Choice.AUTO, false);
        assertThat(plain.parse("Hello there").calls()).isEmpty();
        assertThat(plain.parse("<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>").calls()).isEmpty();
        // The generic fallback: a bare call object of a known tool.
        assertThat(plain.parse("{\"name\": \"now\", \"arguments\": {}}").calls()).hasSize(1);
    }

    @Test
    void forcedCallsHaveGrammars() {
        Grammar generic = new ToolCalls(BuiltinTemplate.byName("chatml").orElseThrow(), TOOLS, ToolCalls.Choice.REQUIRED, false).grammar();
        assertThat(allows(generic, "{\"tool_call\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}}")).isTrue();
        assertThat(allows(generic, "{\"tool_call\": {\"name\": \"get_weather\", \"arguments\": {}}}")).as("city is required").isFalse();
        assertThat(allows(generic, "{\"response\": \"hi\"}")).as("a call is required").isFalse();
        Grammar auto = new ToolCalls(BuiltinTemplate.byName("chatml").orElseThrow(), TOOLS, ToolCalls.Choice.AUTO, false).grammar();
        assertThat(allows(auto, "{\"response\": \"hi\"}")).isTrue();
        Grammar named = new ToolCalls(BuiltinTemplate.byName("chatml").orElseThrow(), TOOLS, ToolCalls.Choice.named("now"), true).grammar();
        assertThat(allows(named, "{\"tool_calls\": [{\"name\": \"now\", \"arguments\": {}}, {\"name\": \"now\", \"arguments\": {}}]}")).isTrue();
        assertThat(allows(named, "{\"tool_calls\": [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"x\"}}]}")).isFalse();

        Grammar hermes = new ToolCalls(template("<tool_call>"), TOOLS, ToolCalls.Choice.REQUIRED, false).grammar();
        assertThat(allows(hermes, "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>")).isTrue();
        assertThat(new ToolCalls(template("<tool_call>"), TOOLS, ToolCalls.Choice.AUTO, false).grammar()).as("auto: free text").isNull();
        Grammar mistral = new ToolCalls(template("[TOOL_CALLS]"), TOOLS, ToolCalls.Choice.REQUIRED, true).grammar();
        assertThat(allows(mistral, "[TOOL_CALLS][{\"name\": \"now\", \"arguments\": {}}, {\"name\": \"now\", \"arguments\": {}}]")).isTrue();
        Grammar llama = new ToolCalls(template("<|python_tag|>"), TOOLS, ToolCalls.Choice.REQUIRED, false).grammar();
        assertThat(allows(llama, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}")).isTrue();
        assertThatThrownBy(() -> new ToolCalls(template("x"), TOOLS, ToolCalls.Choice.named("nope"), false)).hasMessageContaining("'nope'");
    }

    @Test
    void genericFormatDescribesToolsAndRewritesTheHistory() {
        ToolCalls g = new ToolCalls(BuiltinTemplate.byName("chatml").orElseThrow(), TOOLS, ToolCalls.Choice.AUTO, false);
        List<ChatMessage> prepared = g.prepare(List.of(ChatMessage.user("Weather in Paris?"),
                new ChatMessage("assistant", "", List.of(new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}")), null),
                new ChatMessage("tool", "sunny", List.of(), "call_1")));
        assertThat(prepared.getFirst().role()).isEqualTo("system");
        assertThat(prepared.getFirst().content()).contains("get_weather").contains("\"response\"");
        assertThat(prepared.get(2).content()).isEqualTo("{\"tool_call\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}}");
        assertThat(prepared.get(3)).isEqualTo(ChatMessage.user("{\"tool_response\":{\"tool\":\"get_weather\",\"tool_call_id\":\"call_1\",\"content\":\"sunny\"}}"));
    }

    @Test
    void jinjaTemplatesSeeToolsAndToolCalls() {
        ChatTemplate t = template("{% for tool in tools %}[{{ tool.function.name }}:{{ tool.function.parameters.required[0] }}]{% endfor %}"
                + "{% for m in messages %}{{ m.role }}:{{ m.content }}{% for c in m.tool_calls %}({{ c.function.name }} {{ c.function.arguments.city }}){% endfor %}"
                + "{% if m.tool_call_id %}#{{ m.tool_call_id }}{% endif %};{% endfor %}");
        String out = t.render(List.of(ChatMessage.user("hi"),
                new ChatMessage("assistant", "", List.of(new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}")), null),
                new ChatMessage("tool", "sunny", List.of(), "call_1")), TOOLS, false);
        assertThat(out).isEqualTo("[get_weather:city][now:]user:hi;assistant:(get_weather Paris);tool:sunny#call_1;");
    }

    @Test
    void reasoningIsSplitOff() {
        assertThat(ToolCalls.splitReasoning("<think>\nLet me see.\n</think>\n\nHello")).containsExactly("Let me see.", "Hello");
        assertThat(ToolCalls.splitReasoning("Plan.</think>Answer")).containsExactly("Plan.", "Answer");       // opened by the prompt
        assertThat(ToolCalls.splitReasoning("No tags")).containsExactly(null, "No tags");
    }
}
