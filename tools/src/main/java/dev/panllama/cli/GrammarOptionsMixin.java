package dev.panllama.cli;

import dev.panllama.sampling.Grammar;
import dev.panllama.sampling.JsonSchemaGrammar;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** llama.cpp's constrained-output flags: --grammar, --grammar-file, -j/--json-schema, -jf/--json-schema-file (one of them). */
final class GrammarOptionsMixin {
    @Option(names = "--grammar", paramLabel = "GBNF", description = "Only text this GBNF grammar allows (llama.cpp's grammar format)")
    String grammar;

    @Option(names = "--grammar-file", paramLabel = "FILE", description = "Read the GBNF grammar from FILE")
    Path grammarFile;

    @Option(names = {"-j", "--json-schema"}, paramLabel = "SCHEMA", description = "Only JSON that this JSON schema allows (e.g. '{}' for any JSON value)")
    String jsonSchema;

    @Option(names = {"-jf", "--json-schema-file"}, paramLabel = "FILE", description = "Read the JSON schema from FILE")
    Path jsonSchemaFile;

    /** The grammar asked for, or null; a bad one is an error naming the flag. */
    Grammar grammar() {
        int given = (grammar != null ? 1 : 0) + (grammarFile != null ? 1 : 0) + (jsonSchema != null ? 1 : 0) + (jsonSchemaFile != null ? 1 : 0);
        if (given == 0) return null;
        if (given > 1) throw new IllegalArgumentException("--grammar, --grammar-file, --json-schema and --json-schema-file: give one of them");
        String flag = grammar != null ? "--grammar" : grammarFile != null ? "--grammar-file " + grammarFile
                : jsonSchema != null ? "--json-schema" : "--json-schema-file " + jsonSchemaFile;
        String text;
        try {
            text = grammar != null ? grammar : grammarFile != null ? CliFiles.readText(grammarFile)
                    : jsonSchema != null ? jsonSchema : CliFiles.readText(jsonSchemaFile);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException((grammarFile != null ? "--grammar-file " : "--json-schema-file ") + e.getMessage(), e);
        }
        try {
            return Grammar.parse(grammar != null || grammarFile != null ? text : JsonSchemaGrammar.toGbnf(text));
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
        }
    }
}
