package dev.panllama.cli;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The design's arrows, checked on the compiled classes of every module (this module's test class path
 * holds them all): no package cycle anywhere; runtime's inference library never uses the offline
 * tools beside it (convert, quantize, perplexity, ...); runtime never reaches up into cpu, gpu, chat or
 * tools; only runtime touches the FFM bindings; the CLI and server use the backends through
 * ServiceLoader, never by name.
 */
class ArchitectureTest {
    /** runtime's inference library: what loads a model and runs it. */
    private static final String[] INFERENCE = {"dev.panllama.backend..", "dev.panllama.generate..", "dev.panllama.gguf..",
            "dev.panllama.graph..", "dev.panllama.kv..", "dev.panllama.model", "dev.panllama.sampling..", "dev.panllama.scheduler..",
            "dev.panllama.tensor..", "dev.panllama.tokenizer..", "dev.panllama.util.."};
    /** runtime's offline tools, beside the library: they use it, it never uses them. */
    private static final String[] OFFLINE = {"dev.panllama.convert..", "dev.panllama.model.synth..", "dev.panllama.perplexity..",
            "dev.panllama.quantize..", "dev.panllama.safetensors.."};
    private static final String[] RUNTIME = concat(INFERENCE, OFFLINE);
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        // main classes only: other modules' test jars (runtime's testing helpers) are on this class path too
        ImportOption mainOnly = location -> !location.contains("/test-classes/") && !location.contains("-tests.jar");
        classes = new ClassFileImporter().withImportOption(mainOnly).importPackages("dev.panllama");
        // every module is there, or the rules below would pass on nothing
        for (String pkg : new String[]{"dev.panllama.model", "dev.panllama.cpu", "dev.panllama.gpu", "dev.panllama.chat", "dev.panllama.cli",
                "dev.panllama.server", "dev.panllama.ffm.libc"}) {
            assertThat(classes.containPackage(pkg)).as(pkg).isTrue();
        }
    }

    @Test
    void noPackageCycles() {
        // one slice per package, sub-packages apart (tensor.codec is not tensor)
        slices().matching("dev.panllama.(**)").should().beFreeOfCycles().check(classes);
    }

    @Test
    void runtimeNeverReachesUp() {
        noClasses().that().resideInAnyPackage(RUNTIME)
                .should().dependOnClassesThat().resideInAnyPackage("dev.panllama.cpu..", "dev.panllama.gpu..", "dev.panllama.chat..",
                        "dev.panllama.cli..", "dev.panllama.server..", "dev.panllama.examples..")
                .check(classes);
    }

    @Test
    void inferenceNeverUsesTheOfflineTools() {
        // the loader reaches the converters through ModelConverter (ServiceLoader), not by name
        noClasses().that().resideInAnyPackage(INFERENCE)
                .should().dependOnClassesThat().resideInAnyPackage(OFFLINE)
                .check(classes);
    }

    @Test
    void onlyRuntimeTouchesTheBindings() {
        noClasses().that().resideOutsideOfPackages("dev.panllama.util..", "dev.panllama.ffm..")
                .should().dependOnClassesThat().resideInAPackage("dev.panllama.ffm..")
                .check(classes);
    }

    @Test
    void theCliFindsBackendsThroughServiceLoader() {
        noClasses().that().resideInAnyPackage("dev.panllama.cli..", "dev.panllama.server..", "dev.panllama.chat..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.panllama.cpu..", "dev.panllama.gpu..")
                .check(classes);
    }

    private static String[] concat(String[] a, String[] b) {
        return java.util.stream.Stream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b)).toArray(String[]::new);
    }
}
