package dev.panllama.cli;

import dev.panllama.backend.Device;
import dev.panllama.backend.DeviceSet;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The top-level {@code panllama} command: lists the tools. */
@Command(name = "panllama",
        mixinStandardHelpOptions = true,
        versionProvider = PanllamaCommand.Version.class,
        description = "LLM inference on GGUF models, the Java way: the tools of llama.cpp with its flags.",
        subcommands = {
                RunCommand.class,
                ChatCommand.class,
                ServeCommand.class,
                PerplexityCommand.class,
                BenchCommand.class,
                LogitsCommand.class,
                GgufCommand.class,
                SynthCommand.class,
                ConvertCommand.class,
                QuantizeCommand.class,
                TokenizeCommand.class,
                EmbeddingCommand.class,
                GgufSplitCommand.class,
                ImatrixCommand.class,
                CommandLine.HelpCommand.class
        },
        commandListHeading = "%nCommands:%n")
public final class PanllamaCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--list-devices", description = "List the devices (buffer types) that can hold weights, and the backends that cannot run here, with why")
    boolean listDevices;

    @Override
    public void run() {
        if (listDevices) {
            try (DeviceSet devices = DeviceSet.discover(0)) {
                var out = spec.commandLine().getOut();
                out.println("Available devices:");
                for (Device d : devices.all()) {
                    long total = d.memoryTotal();
                    out.printf("  %-8s %s%s%n", d.name(), d.description(),
                            total > 0 ? String.format(" (%,d MiB %s)", total >> 20, d.isHost() ? "RAM" : "total") : "");
                }
                devices.unavailable().forEach((name, why) -> out.printf("  %-8s unavailable: %s%n", name, why));
                out.flush();
            }
            return;
        }
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Version and build: the version, the commit built and when, and the JVM. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return BuildInfo.load().versionLines();
        }
    }
}
