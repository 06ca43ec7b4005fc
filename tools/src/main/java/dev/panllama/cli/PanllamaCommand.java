package dev.panllama.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The top-level {@code panllama} command: lists the tools. */
@Command(name = "panllama",
        mixinStandardHelpOptions = true,
        versionProvider = PanllamaCommand.Version.class,
        description = "LLM inference on GGUF models, the Java way: the tools of llama.cpp with its flags.",
        subcommands = {
                RunCommand.class,
                PerplexityCommand.class,
                BenchCommand.class,
                LogitsCommand.class,
                GgufCommand.class,
                SynthCommand.class,
                TokenizeCommand.class,
                CommandLine.HelpCommand.class
        },
        commandListHeading = "%nCommands:%n")
public final class PanllamaCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = PanllamaCommand.class.getPackage().getImplementationVersion();
            return new String[]{"panllama " + (v != null ? v : "(development build)"),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
