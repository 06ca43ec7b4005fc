package dev.panllama.cli;

import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;

/** llama.cpp's run/chat habits on the bundled model: -r, -e/--no-escape, --verbose-prompt; chat's /help, unknown commands, multi-line input. */
class RunChatFlagsTest {
    @Test
    void reversePromptStopsTheText() {
        CliRun r = CliRun.of("run", "-p", "Once upon a time", "-n", "40", "--temp", "0", "-r", "Lily");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo("Once upon a time, there was a little girl named");
    }

    @Test
    void escapesAndVerbosePrompt() {
        CliRun on = CliRun.of("run", "-p", "Hi\\tthere", "-n", "0", "--verbose-prompt");
        assertThat(on.exitCode()).as(on.err()).isZero();
        assertThat(on.err()).contains("panllama run: prompt: 'Hi\tthere'").containsPattern("number of tokens in prompt = \\d+")
                .containsPattern("\\s+1 -> '<s>'");
        CliRun off = CliRun.of("run", "-p", "Hi\\tthere", "-n", "0", "--verbose-prompt", "--no-escape");
        assertThat(off.err()).contains("panllama run: prompt: 'Hi\\tthere'");
        assertThat(Escapes.process("a\\nb\\\\c\\x41\\q")).isEqualTo("a\nb\\cA\\q");
    }

    /** --version names the build: version, the commit it was built from (when built from a git clone), the build time and the JVM. */
    @Test
    void versionNamesTheBuild() {
        CliRun r = CliRun.of("--version");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).containsPattern("^panllama \\S+( \\(commit [0-9a-f]{7,} of \\S+(, with local changes)?\\))?\\R(built \\S+, )?running on Java 25");
        if (java.nio.file.Files.isDirectory(java.nio.file.Path.of(System.getProperty("panllama.home"), ".git"))) {
            assertThat(r.out()).containsPattern("\\(commit [0-9a-f]{7,} of ");
        }
    }

    /** llama.cpp's spellings that mean what panllama does anyway, or a small switch. */
    @Test
    void llamaCppSpellingsAreAccepted() {
        CliRun quiet = CliRun.of("run", "-p", "Once", "-n", "2", "--no-perf", "--top-nsigma", "-1", "--log-disable");
        assertThat(quiet.exitCode()).as(quiet.err()).isZero();
        assertThat(quiet.err()).doesNotContain("panllama: load");
        CliRun jinja = CliRun.of("run", "-cnv", "-st", "--jinja", "-p", "Hi", "-n", "2");
        assertThat(jinja.exitCode()).as(jinja.err()).isZero();
    }

    @Test
    void verbosePrintsWhatTheModelIs() {
        CliRun r = CliRun.of("run", "-v", "-p", "Once", "-n", "1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("model: stories260K.gguf | llama ").contains(" K params")
                .contains("model: llama: n_embd 64, n_layer 5, n_head 8, n_head_kv 4").contains("model: context 2048 tokens (trained 2048), vocabulary 512 tokens");
    }

    /** --override-kv and llama.cpp's rope flags (shorthands for rope metadata keys) change what is loaded. */
    @Test
    void metadataOverridesAndRopeFlags() {
        assertThat(CliRun.of("run", "-v", "-p", "x", "-n", "1", "--rope-freq-base", "20000").err()).contains("rope base 20000");
        assertThat(CliRun.of("run", "-v", "-p", "x", "-n", "1", "--override-kv", "llama.context_length=int:64").err())
                .contains("model: context 64 tokens (trained 64)");
        String plain = CliRun.of("run", "-p", "Once upon a time", "-n", "16", "--temp", "0").out();
        String scaled = CliRun.of("run", "-p", "Once upon a time", "-n", "16", "--temp", "0", "--rope-scale", "2").out();
        assertThat(scaled).startsWith("Once upon a time").isNotEqualTo(plain);
        // YaRN on a llama model, its parameters as llama.cpp's rope.scaling.yarn_* keys
        assertThat(CliRun.of("run", "-v", "-p", "x", "-n", "1", "--rope-scaling", "yarn", "--rope-scale", "4", "--yarn-orig-ctx", "512").err())
                .contains("rope scale 0.25 (YaRN from 512)");
        String noRamp = CliRun.of("run", "-p", "Once upon a time", "-n", "16", "--temp", "0", "--rope-scaling", "yarn", "--rope-scale", "2",
                "--yarn-ext-factor", "0").out();
        assertThat(noRamp).isEqualTo(scaled);          // without the ramp YaRN's angles are linear scaling's
        assertThat(CliRun.of("run", "-p", "x", "--yarn-beta-fast", "0").err()).contains("--yarn-beta-fast 0.0: must be positive");
        CliRun bad = CliRun.of("run", "-p", "x", "--override-kv", "a=b");
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("--override-kv a=b: must be KEY=TYPE:VALUE");
        assertThat(CliRun.of("run", "-p", "x", "--override-kv", "a=int:z").err()).contains("--override-kv a=int:z: 'z' is not a int");
        assertThat(CliRun.of("run", "-p", "x", "--rope-scaling", "ntk").err()).contains("--rope-scaling ntk: must be none, linear or yarn");
    }

    /** -sp prints special tokens; --color wraps the generated text in llama-cli's colors; one-GPU forms of -sm/-mg/-ts pass. */
    @Test
    void specialColorAndGpuFlags() {
        CliRun color = CliRun.of("run", "-p", "Once", "-n", "3", "--temp", "0", "--color");
        assertThat(color.out()).startsWith("Once\u001b[33m").contains("\u001b[0m");
        assertThat(CliRun.of("run", "-p", "Once", "-n", "2", "-sm", "layer", "-mg", "0", "-ts", "1").exitCode()).isZero();
        assertThat(CliRun.of("run", "-p", "Once", "-sm", "row").err()).contains("-sm row: splitting rows over several GPUs is not supported");
        assertThat(CliRun.of("run", "-p", "Once", "-mg", "1").err()).contains("-mg 1: panllama drives one GPU, number 0");
        assertThat(CliRun.of("run", "-p", "Once", "-ts", "3,1").err()).contains("-ts 3,1: panllama drives one GPU");
        CliRun special = CliRun.of("run", "-p", "Once", "-n", "2", "--temp", "0", "-sp", "--verbose-prompt");
        assertThat(special.exitCode()).as(special.err()).isZero();
    }

    @Test
    void flashAttentionIsAccepted() {
        assertThat(CliRun.of("run", "-fa", "on", "-p", "Once", "-n", "1").exitCode()).isZero();
        assertThat(CliRun.of("run", "--flash-attn", "auto", "-p", "Once", "-n", "1").exitCode()).isZero();
        CliRun bad = CliRun.of("run", "-fa", "maybe", "-p", "Once", "-n", "1");
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("-fa maybe: must be on, off or auto");
    }

    @Test
    void chatCommands() {
        CliRun run = CliRun.withStdin("/help\n/frobnicate\nOnce upon \\\na time\n/exit\n",
                () -> CliRun.of("chat", "--temp", "0", "-n", "4", "-t", "1", "-c", "256"));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("/clear  forget the conversation").contains("... ");
        assertThat(run.err()).contains("panllama chat: unknown command /frobnicate (/help lists them; start a message with // to send a /)");
        assertThat(run.err()).contains("1 turn |");        // the two lines were one message
    }
}
