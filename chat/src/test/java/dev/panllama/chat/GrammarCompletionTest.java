package dev.panllama.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.panllama.generate.CachedSession;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.sampling.Grammar;
import dev.panllama.sampling.JsonSchemaGrammar;
import dev.panllama.sampling.SamplerParams;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Grammar-constrained completions on stories260K, which never saw JSON or arithmetic: with the grammar
 * every output is a sentence of it. Sampled at temperature 1 with several seeds (so the grammar, not
 * the model's habits, makes the shape); grammars are bounded so that each completion ends by itself.
 */
class GrammarCompletionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static Model model;

    @BeforeAll
    static void load() throws Exception {
        model = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(2).withContextLength(512));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** JSON (values nested at most twice, bounded strings and lists), in the spirit of llama.cpp's json.gbnf. */
    static final String JSON_GBNF = """
            root   ::= object
            value  ::= object2 | array2 | scalar
            object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value){0,3} )? "}"
            array2 ::= "[" ws ( scalar ("," ws scalar){0,3} )? "]" ws
            object2 ::= "{" ws ( string ":" ws scalar ("," ws string ":" ws scalar){0,2} )? "}" ws
            scalar ::= string | number | ("true" | "false" | "null") ws
            string ::= "\\"" ( [^"\\\\\\x7F\\x00-\\x1F] | "\\\\" ["\\\\/bfnrt] ){0,12} "\\"" ws
            number ::= "-"? ([0-9] | [1-9] [0-9]{1,5}) ("." [0-9]{1,4})? ws
            ws     ::= [ ]?
            """;

    /** Sums and products of integers with parentheses, one equation per line (in the spirit of llama.cpp's arithmetic.gbnf). */
    static final String ARITHMETIC_GBNF = """
            root  ::= (expr "=" ws term "\\n"){1,2}
            expr  ::= term ([-+*/] term){0,3}
            term  ::= ident | num | "(" ws expr ")" ws
            ident ::= [a-z] [a-z0-9_]{0,5} ws
            num   ::= [0-9]{1,4} ws
            ws    ::= [ ]?
            """;

    static final String LIST_GBNF = """
            root ::= item{1,4}
            item ::= "- " [a-z ]{1,20} "\\n"
            """;

    private static List<String> complete(Grammar grammar, String prompt, int seeds) {
        List<String> out = new ArrayList<>();
        for (int seed = 1; seed <= seeds; seed++) {
            try (CachedSession s = new CachedSession(model.newSession())) {
                CompletionSettings settings = CompletionSettings.of(450, SamplerParams.DEFAULTS.withTemperature(1.0f).withSeed(seed)).withGrammar(grammar);
                Completion.Result r = Completion.run(s, model.tokenizer(), model.tokenizer().encode(prompt, true, true), settings, t -> true);
                assertThat(r.finishReason()).as("seed %d: %s", seed, r.text()).isEqualTo(Completion.FinishReason.STOP);
                out.add(r.text());
            }
        }
        return out;
    }

    @Test
    void jsonGrammarGivesJsonThatParses() throws Exception {
        for (String text : complete(Grammar.parse(JSON_GBNF), "Once upon a time", 8)) {
            JsonNode parsed = JSON.readTree(text);
            assertThat(parsed.isObject()).as(text).isTrue();
        }
    }

    @Test
    void arithmeticAndListGrammars() {
        for (String text : complete(Grammar.parse(ARITHMETIC_GBNF), "Once upon a time", 6)) {
            for (String line : text.split("\n")) assertThat(Arithmetic.parses(line)).as(text).isTrue();
            assertThat(text).endsWith("\n");
        }
        for (String text : complete(Grammar.parse(LIST_GBNF), "Lily had a list:", 6)) {
            assertThat(text).as(text).matches("(- [a-z ]{1,20}\\n){1,4}");
        }
    }

    @Test
    void jsonSchemaOutputsValidate() throws Exception {
        String schema = """
                {"type": "object",
                 "properties": {
                   "name": {"type": "string", "maxLength": 10},
                   "age": {"type": "integer", "minimum": 0},
                   "mood": {"enum": ["happy", "sad", "sleepy"]},
                   "friends": {"type": "array", "items": {"$ref": "#/$defs/friend"}, "minItems": 1, "maxItems": 2},
                   "id": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"},
                   "born": {"type": "string", "format": "date"},
                   "nick": {"type": ["string", "null"], "maxLength": 5}
                 },
                 "required": ["name", "age", "mood", "friends", "id"],
                 "$defs": {"friend": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 8}, "dog": {"type": "boolean"}},
                                      "required": ["name"]}}}
                """;
        Grammar g = Grammar.parse(JsonSchemaGrammar.toGbnf(schema));
        JsonSchemaCheck check = new JsonSchemaCheck(schema);
        for (String text : complete(g, "Once upon a time", 8)) {
            JsonNode parsed = JSON.readTree(text);
            assertThat(check.errors(text)).as(text).isEmpty();
            if (parsed.has("born")) java.time.LocalDate.parse(parsed.get("born").asText());     // the validator takes formats as notes only
        }
    }

    /** A recursive-descent check of "expr = term" in the arithmetic grammar's language (an oracle written apart from the grammar). */
    private static final class Arithmetic {
        private final String s;
        private int i;

        private Arithmetic(String s) {
            this.s = s;
        }

        static boolean parses(String line) {
            Arithmetic a = new Arithmetic(line);
            if (!a.expr()) return false;
            if (!a.eat('=')) return false;
            a.ws();
            return a.term() && a.i == line.length();
        }

        private boolean expr() {
            if (!term()) return false;
            while (i < s.length() && "+-*/".indexOf(s.charAt(i)) >= 0) {
                i++;
                if (!term()) return false;
            }
            return true;
        }

        private boolean term() {
            if (eat('(')) {
                ws();
                if (!expr() || !eat(')')) return false;
                ws();
                return true;
            }
            int start = i;
            if (i < s.length() && Character.isLowerCase(s.charAt(i))) {
                while (i < s.length() && (Character.isLowerCase(s.charAt(i)) || Character.isDigit(s.charAt(i)) || s.charAt(i) == '_')) i++;
            } else {
                while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
            }
            if (i == start) return false;
            ws();
            return true;
        }

        private boolean eat(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void ws() {
            if (i < s.length() && s.charAt(i) == ' ') i++;
        }
    }
}
