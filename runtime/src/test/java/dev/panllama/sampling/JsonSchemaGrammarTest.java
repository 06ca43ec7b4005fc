package dev.panllama.sampling;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Schemas as grammars: hand-written documents that the schema allows are sentences, the others are not. */
class JsonSchemaGrammarTest {
    private static boolean allows(String schema, String json) {
        GrammarMatcher m = new GrammarMatcher(Grammar.parse(JsonSchemaGrammar.toGbnf(schema)));
        return m.accept(json.getBytes(StandardCharsets.UTF_8)) && m.canEnd();
    }

    @Test
    void scalarsAndEnums() {
        assertThat(allows("{\"type\": \"integer\"}", "-12")).isTrue();
        assertThat(allows("{\"type\": \"integer\"}", "1.5")).isFalse();
        assertThat(allows("{\"type\": \"integer\"}", "012")).isFalse();
        assertThat(allows("{\"type\": \"integer\", \"minimum\": 0}", "-1")).isFalse();
        assertThat(allows("{\"type\": \"number\"}", "-1.25e+3")).isTrue();
        assertThat(allows("{\"type\": \"boolean\"}", "true")).isTrue();
        assertThat(allows("{\"enum\": [\"a\", 1, null]}", "1")).isTrue();
        assertThat(allows("{\"enum\": [\"a\", 1, null]}", "\"b\"")).isFalse();
        assertThat(allows("{\"const\": {\"k\": [1, 2]}}", "{\"k\":[1,2]}")).isTrue();
        assertThat(allows("{\"type\": [\"string\", \"null\"]}", "null")).isTrue();
        assertThat(allows("{\"type\": \"string\", \"minLength\": 2, \"maxLength\": 3}", "\"a\"")).isFalse();
        assertThat(allows("{\"type\": \"string\", \"minLength\": 2, \"maxLength\": 3}", "\"a\\\"b\"")).isTrue();
        assertThat(allows("{\"type\": \"string\", \"format\": \"uuid\"}", "\"123e4567-e89b-12d3-a456-426614174000\"")).isTrue();
        assertThat(allows("{\"type\": \"string\", \"format\": \"date-time\"}", "\"2026-12-06T21:15:00Z\"")).isTrue();
        assertThat(allows("{\"type\": \"string\", \"pattern\": \"^(ab|c)+\\\\d?$\"}", "\"abcab7\"")).isTrue();
        assertThat(allows("{\"type\": \"string\", \"pattern\": \"^(ab|c)+\\\\d?$\"}", "\"abb\"")).isFalse();
        assertThat(allows("{}", "[1, {\"a\": \"b\"}, null]")).isTrue();
    }

    @Test
    void objectsArraysAndReferences() {
        String person = """
                {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"}}, "required": ["b"]}""";
        assertThat(allows(person, "{\"b\": \"x\"}")).isTrue();
        assertThat(allows(person, "{\"a\": 1, \"b\": \"x\", \"c\": true}")).as("optional before and after").isFalse();   // properties keep their order
        assertThat(allows(person, "{\"b\": \"x\", \"a\": 1}")).isTrue();
        assertThat(allows(person, "{\"b\": \"x\", \"c\": true}")).isTrue();
        assertThat(allows(person, "{\"a\": 1}")).as("b is required").isFalse();
        assertThat(allows(person, "{\"b\": \"x\", \"d\": 1}")).as("no other properties").isFalse();
        String optional = "{\"properties\": {\"a\": {\"type\": \"integer\"}, \"b\": {\"type\": \"integer\"}}}";
        assertThat(allows(optional, "{}")).isTrue();
        assertThat(allows(optional, "{\"b\": 2}")).isTrue();
        assertThat(allows(optional, "{\"a\": 1, \"b\": 2}")).isTrue();
        assertThat(allows(optional, "{,\"b\": 2}")).isFalse();
        String map = "{\"type\": \"object\", \"additionalProperties\": {\"type\": \"integer\"}}";
        assertThat(allows(map, "{\"x\": 1, \"y\": 2}")).isTrue();
        assertThat(allows(map, "{\"x\": \"1\"}")).isFalse();
        String list = "{\"type\": \"array\", \"items\": {\"type\": \"integer\"}, \"minItems\": 2, \"maxItems\": 3}";
        assertThat(allows(list, "[1]")).isFalse();
        assertThat(allows(list, "[1, 2, 3]")).isTrue();
        assertThat(allows(list, "[1, 2, 3, 4]")).isFalse();
        assertThat(allows("{\"prefixItems\": [{\"type\": \"string\"}, {\"type\": \"integer\"}]}", "[\"a\", 1]")).isTrue();
        String tree = """
                {"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
                 "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["v"]}}}""";
        assertThat(allows(tree, "{\"v\": 1, \"kids\": [{\"v\": 2}, {\"v\": 3, \"kids\": []}]}")).isTrue();
        assertThat(allows(tree, "{\"v\": 1, \"kids\": [{\"w\": 2}]}")).isFalse();
        String any = "{\"anyOf\": [{\"type\": \"integer\"}, {\"type\": \"object\", \"properties\": {\"x\": {\"const\": 1}}, \"required\": [\"x\"]}]}";
        assertThat(allows(any, "{\"x\": 1}")).isTrue();
        assertThat(allows(any, "7")).isTrue();
        String all = "{\"allOf\": [{\"properties\": {\"a\": {\"type\": \"integer\"}}, \"required\": [\"a\"]}, {\"properties\": {\"b\": {\"type\": \"integer\"}}, \"required\": [\"b\"]}]}";
        assertThat(allows(all, "{\"a\": 1, \"b\": 2}")).isTrue();
        assertThat(allows(all, "{\"a\": 1}")).isFalse();
    }

    @Test
    void badSchemasSayWhere() {
        assertThatThrownBy(() -> JsonSchemaGrammar.toGbnf("{\"type\": \"rainbow\"}")).hasMessage("JSON schema at $: unknown type 'rainbow'");
        assertThatThrownBy(() -> JsonSchemaGrammar.toGbnf("{\"properties\": {\"a\": {\"$ref\": \"#/$defs/none\"}}}"))
                .hasMessage("JSON schema at $.properties.a: $ref '#/$defs/none' points nowhere");
        assertThatThrownBy(() -> JsonSchemaGrammar.toGbnf("{\"type\": \"string\", \"pattern\": \"abc\"}")).hasMessageContaining("must be anchored with ^ and $");
        assertThatThrownBy(() -> JsonSchemaGrammar.toGbnf("{\"type\": \"object\", \"properties\": {}, \"required\": [\"a\"]}")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> JsonSchemaGrammar.toGbnf("{not json")).hasMessageStartingWith("JSON schema: not JSON");
        assertThatThrownBy(() -> JsonSchemaGrammar.toGbnf("{\"$ref\": \"http://example.com/s.json\"}")).hasMessageContaining("only local $refs");
    }
}
