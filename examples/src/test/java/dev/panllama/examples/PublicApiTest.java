package dev.panllama.examples;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

/**
 * The examples use only the library's public API: model, session, sampling, chat, placement, tensor,
 * tokenizer and GGUF types, never a backend, the graph, the CLI or the native bindings.
 */
class PublicApiTest {
    @Test
    void examplesUseThePublicApiOnly() {
        classes().that().resideInAPackage("dev.panllama.examples..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("dev.panllama.examples..", "dev.panllama.model", "dev.panllama.generate",
                        "dev.panllama.chat", "dev.panllama.sampling", "dev.panllama.scheduler", "dev.panllama.tensor", "dev.panllama.tokenizer",
                        "dev.panllama.gguf", "java..")
                .check(new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.panllama.examples"));
    }
}
