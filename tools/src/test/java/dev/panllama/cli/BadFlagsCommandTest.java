package dev.panllama.cli;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 15, flags: every bad value gets one line naming the flag and the value, exit 1 — never a
 * stack trace, a hang or a silent acceptance.
 */
class BadFlagsCommandTest {
    private static final String STORIES = TestFiles.stories260K().toString();
    private static final String TEXT = TestFiles.bundled("text/tinystories_sample.txt").toString();

    /** One line on stderr, "panllama CMD: error: ...", exit 1 and no trace. */
    private static CliRun fails(String... args) {
        CliRun r = CliRun.of(args);
        assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
        assertThat(r.err().strip()).as(r.err()).startsWith("panllama " + args[0] + ": error: ").doesNotContain("\n");
        return r;
    }

    private static String error(String... args) {
        return fails(args).err().strip().replaceFirst("^panllama \\S+: error: ", "");
    }

    @CommandLine.Command(name = "boom")
    static final class Throws implements Callable<Integer> {
        final Error error;

        Throws(Error error) { this.error = error; }

        @Override
        public Integer call() { throw error; }
    }

    private static CliRun runThrowing(Error e) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.configure(new CommandLine(new Throws(e)), new PrintWriter(out, true), new PrintWriter(err, true)).execute();
        return new CliRun(code, out.toString(), err.toString());
    }

    /** picocli hands only Exceptions to the handler: Errors must reach it too, as one line. */
    @Test
    void errorsBecomeOneLineMessages() {
        CliRun native_ = runThrowing(new OutOfMemoryError("Unable to allocate 32000000048 bytes"));
        assertThat(native_.exitCode()).isEqualTo(1);
        assertThat(native_.err().strip()).isEqualTo("panllama boom: error: out of memory (Unable to allocate 32000000048 bytes"
                + " of native memory); try a smaller context (-c)");
        CliRun heap = runThrowing(new OutOfMemoryError("Java heap space"));
        assertThat(heap.err().strip()).startsWith("panllama boom: error: out of memory (Java heap space); try a smaller context (-c)")
                .contains("PANLLAMA_JAVA_OPTS=-Xmx");
        CliRun overflow = runThrowing(new StackOverflowError());
        assertThat(overflow.exitCode()).isEqualTo(1);
        assertThat(overflow.err().strip()).isEqualTo("panllama boom: error: stack overflow (nesting too deep); PANLLAMA_DEBUG=1 shows where");
        CliRun other = runThrowing(new AssertionError("broken invariant"));
        assertThat(other.err().strip()).isEqualTo("panllama boom: error: internal error: java.lang.AssertionError: broken invariant;"
                + " PANLLAMA_DEBUG=1 shows where");
    }

    /** The KV cache of -c is computed before it is allocated, and refused when memory cannot hold it. */
    @Test
    void contextBeyondMemoryIsRefusedBeforeAllocating() {
        // stories260K: 5 layers × (32 + 32) f16 values of K and V per position = 640 bytes a token
        assertThat(error("run", "-c", "2147483647", "-p", "x")).matches(
                "-c 2147483647: the KV cache needs 1280\\.00 GiB but only [0-9.]+ [KMG]iB of memory is available \\(use a smaller -c\\)");
        if (MemoryBudget.availableMemory() < 59L << 30) {    // on a machine with that much free, it would run (and take it)
            assertThat(error("run", "-c", "100000000", "-p", "x")).startsWith("-c 100000000: the KV cache needs 59.60 GiB but only ");
        }
        assertThat(error("perplexity", "-c", "2147483647", "-f", TEXT)).startsWith("-c 2147483647: the KV cache needs");
        assertThat(error("bench", "-p", "2000000000", "-n", "0", "-r", "1")).startsWith("-p 2000000000 -n 0: the KV cache needs");
        assertThat(error("run", "-c", "-3")).isEqualTo("-c -3: must be 0 (the model's context) or more");
    }

    /** llama.cpp allows a context past the model's training with a warning; so does panllama. */
    @Test
    void contextBeyondTrainingWarns() {
        CliRun r = CliRun.of("run", "-c", "4096", "-p", "Once", "-n", "2", "--temp", "0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("warning: -c 4096 is more than the 2048 tokens the model was trained with; quality may drop past them");
    }

    @Test
    void threadCountsAreBounded() {
        int cores = Runtime.getRuntime().availableProcessors();
        String machine = "(this machine has " + cores + " core" + (cores == 1 ? "" : "s") + ")";
        assertThat(error("run", "-t", "100000", "-p", "x")).isEqualTo("-t 100000: at most 512 threads " + machine);
        assertThat(error("run", "-t", "-3")).isEqualTo("-t -3: must be 0 (all cores) or more");
        assertThat(error("run", "-tb", "-1")).isEqualTo("-tb -1: must be 0 (as -t) or more");
        assertThat(error("run", "-lv", "-1")).isEqualTo("-lv -1: must be 0 (output only) to 4 (debug)");
        assertThat(error("bench", "-t", "513")).isEqualTo("-t 513: at most 512 threads " + machine);
        assertThat(error("synth", "--arch", "llama", "--preset", "tiny", "--type", "q8_0", "-t", "100000", "x.gguf"))
                .isEqualTo("-t 100000: at most 512 threads " + machine);
        assertThat(error("quantize", STORIES, "x.gguf", "Q8_0", "100000"))
                .isEqualTo("THREADS 100000: at most 512 threads " + machine);
        if (cores < ThreadCount.MAX) {
            CliRun over = CliRun.of("run", "-t", Integer.toString(cores + 1), "-p", "Once", "-n", "1");
            assertThat(over.exitCode()).as(over.err()).isZero();
            assertThat(over.err()).contains("warning: -t " + (cores + 1) + " is more threads than the " + cores + " core");
        }
    }

    /** -n: a count, -1 or -2 as in llama.cpp; and a run cut short by the context says so. */
    @Test
    void nPredict() {
        assertThat(error("run", "-n", "-5", "-p", "x"))
                .isEqualTo("-n -5: must be 0 or more, -1 (until end of text) or -2 (until the context is full)");
        assertThat(error("chat", "-n", "-3")).startsWith("-n -3: must be 0 or more");
        CliRun full = CliRun.of("run", "-c", "8", "-n", "-2", "-p", "Once upon", "--temp", "0");
        assertThat(full.exitCode()).as(full.err()).isZero();
        CliRun cut = CliRun.of("run", "-c", "8", "-n", "20", "-p", "Once upon", "--temp", "0", "--no-context-shift");
        assertThat(cut.exitCode()).as(cut.err()).isZero();
        assertThat(cut.err()).containsPattern("panllama run: stopped after \\d of -n 20 tokens: the context of 8 is full \\(raise -c, or drop --no-context-shift\\)");
        // The context shifts by default (llama-cli's way): -n 100 in a context of 32 gives 100 tokens.
        CliRun shifted = CliRun.of("run", "-c", "32", "-n", "100", "-p", "Once upon a time", "--temp", "0", "--keep", "-1");
        assertThat(shifted.exitCode()).as(shifted.err()).isZero();
        assertThat(shifted.err()).contains("generation 100 tokens").doesNotContain("stopped after");
        assertThat(error("run", "--keep", "-2", "-p", "x")).isEqualTo("--keep -2: must be -1 (the whole prompt) or more");
    }

    /**
     * llama.cpp's multi-letter short flags are never parsed as clusters of one-letter ones (-fa as -f a):
     * one a command does not declare is named as llama.cpp's; an unknown flag is picocli's usage error.
     */
    @Test
    void llamaCppFlagsAreNamedNotMisparsed() {
        for (String[] args : new String[][]{{"run", "-gan", "4", "-p", "x"}, {"run", "-mli", "-p", "x"}, {"run", "--lora", "a.gguf", "-p", "x"},
                {"serve", "--reasoning-budget", "0"}, {"bench", "--delay", "1"}, {"quantize", "--keep-split", "a", "b", "q4_0"}}) {
            CliRun r = CliRun.of(args);
            assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
            assertThat(r.err().strip()).isEqualTo("panllama " + args[0] + ": error: " + args[1] + " is a llama.cpp flag that panllama "
                    + args[0] + " does not support (yet); see --help");
        }
        CliRun unknown = CliRun.of("run", "--frobnicate", "-p", "x");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("Unknown option: '--frobnicate'");
    }

    /** llama.cpp's other samplers: each flag checked and named. */
    @Test
    void samplerFlags() {
        assertThat(error("run", "-p", "x", "--mirostat", "3")).isEqualTo("--mirostat 3: must be 0, 1 or 2");
        assertThat(error("run", "-p", "x", "--typical", "0")).isEqualTo("--typical 0.0: must be in (0, 1]");
        assertThat(error("run", "-p", "x", "--samplers", "top_k;nucleus")).startsWith("--samplers top_k;nucleus: unknown sampler 'nucleus'");
        assertThat(error("run", "-p", "x", "--logit-bias", "15043*2")).startsWith("--logit-bias 15043*2: must be TOKEN+BIAS or TOKEN-BIAS");
        assertThat(error("run", "-p", "x", "--dry-base", "0.5")).isEqualTo("--dry-base 0.5: must be at least 1");
        assertThat(error("run", "-p", "x", "--xtc-probability", "2")).isEqualTo("--xtc-probability 2.0: must be in [0, 1]");
        CliRun ok = CliRun.of("run", "-p", "Once upon a time", "-n", "8", "-s", "1", "--mirostat", "2", "--dry-multiplier", "0.8",
                "--xtc-probability", "0.5", "--top-n-sigma", "1", "--typical", "0.9", "--logit-bias", "13-inf", "--ignore-eos");
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.err()).contains("generation 8 tokens");
    }

    /** --grammar and --json-schema: the output follows them; a bad one is named with its flag and place. */
    @Test
    void grammarAndJsonSchema() throws Exception {
        CliRun json = CliRun.of("run", "-p", "Once upon a time", "-n", "300", "--temp", "1", "-s", "3", "--no-display-prompt",
                "-j", "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}}, \"required\": [\"a\"]}");
        assertThat(json.exitCode()).as(json.err()).isZero();
        var parsed = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out());
        assertThat(parsed.path("a").isIntegralNumber()).as(json.out()).isTrue();
        CliRun g = CliRun.of("run", "-p", "Once upon a time", "-n", "50", "--temp", "1", "-s", "3", "--no-display-prompt",
                "--grammar", "root ::= (\"yes\" | \"no\") \"!\"");
        assertThat(g.out().strip()).isIn("yes!", "no!");
        assertThat(error("run", "-p", "x", "--grammar", "root ::= item")).isEqualTo("--grammar: grammar, line 1, column 10: rule 'item' is used but never defined");
        assertThat(error("run", "-p", "x", "-j", "{\"type\": 5}")).startsWith("--json-schema: JSON schema at $");
        assertThat(error("run", "-p", "x", "--grammar", "root ::= \"a\"", "-j", "{}")).isEqualTo("--grammar, --grammar-file, --json-schema and --json-schema-file: give one of them");
        assertThat(error("chat", "--grammar-file", "/nonexistent.gbnf")).startsWith("--grammar-file /nonexistent.gbnf");
    }

    /** --vocab-from means something only for a Hugging Face directory: with a GGUF model it is a mistake. */
    @Test
    void vocabFromWithAGgufModel() {
        assertThat(error("run", "--vocab-from", "/nonexistent", "-p", "x")).matches(
                "--vocab-from /nonexistent: no such file, and only for a Hugging Face model directory \\(-m DIR\\); .*stories260K\\.gguf"
                        + " is a GGUF file with its own tokenizer");
        assertThat(error("run", "--vocab-from", STORIES, "-p", "x"))
                .startsWith("--vocab-from " + STORIES + ": only for a Hugging Face model directory (-m DIR); ");
    }

    /** A temperature of 0 or less is greedy, as in llama.cpp (documented in --help); NaN is refused. */
    @Test
    void samplingFlags() {
        CliRun negative = CliRun.of("run", "-p", "Once upon a time", "-n", "12", "--temp", "-1");
        CliRun zero = CliRun.of("run", "-p", "Once upon a time", "-n", "12", "--temp", "0");
        assertThat(negative.exitCode()).isZero();
        assertThat(negative.out()).isEqualTo(zero.out());
        assertThat(CliRun.of("run", "--help").out()).contains("0 or less = greedy");
        assertThat(error("run", "--temp", "NaN", "-p", "x")).isEqualTo("--temp NaN: must be a finite number");
        assertThat(error("run", "--top-p", "NaN", "-p", "x")).isEqualTo("--top-p NaN: must be a finite number");
        assertThat(error("run", "--top-p", "2", "-p", "x")).isEqualTo("--top-p 2.0: must be in [0, 1]");
        assertThat(error("run", "--min-p", "Infinity", "-p", "x")).isEqualTo("--min-p Infinity: must be a finite number");
        assertThat(error("run", "-s", "-5", "-p", "x")).isEqualTo("-s -5: must be 0 or more, or -1 (random)");
        assertThat(error("run", "--repeat-last-n", "-5", "-p", "x")).isEqualTo("--repeat-last-n -5: must be 0 or more, or -1 (the context)");
    }

    /** Found by fuzzing: values that were accepted silently or reported without the flag. */
    @Test
    void otherFlags() {
        assertThat(error("run", "-b", "0", "-p", "x")).isEqualTo("-b 0: must be positive");
        assertThat(error("run", "-ub", "0", "-p", "x")).isEqualTo("-ub 0: must be positive");
        assertThat(error("perplexity", "-f", TEXT, "--chunks", "-5")).isEqualTo("--chunks -5: must be positive, or -1 (all)");
        assertThat(error("perplexity", "-f", TEXT, "--chunks", "0")).isEqualTo("--chunks 0: must be positive, or -1 (all)");
        assertThat(error("gguf", "--tensor", "output.weight", "--values", "-5")).isEqualTo("--values -5: must be 0 or more");
        assertThat(error("gguf", "--max-array", "-1")).isEqualTo("--max-array -1: must be 0 or more");
        assertThat(error("serve", "--max-request-bytes", "-5")).isEqualTo("--max-request-bytes -5: must be positive");
        assertThat(error("serve", "--port", "99999")).isEqualTo("--port 99999: must be in [0, 65535]");
        assertThat(error("serve", "-n", "-3")).isEqualTo("-n -3: must be -1 (no limit) or more");
        assertThat(error("serve", "--threads-http", "0")).isEqualTo("--threads-http 0: must be positive, or -1");
        assertThat(error("serve", "--pooling", "mean")).isEqualTo("--pooling applies to --embeddings, which is not given");
        assertThat(error("serve", "--embeddings", "--pooling", "max")).isEqualTo("--pooling max: must be one of none, mean, cls, last");
        assertThat(error("serve", "--slot-save-path", "/nonexistent/dir")).isEqualTo("--slot-save-path /nonexistent/dir: not a folder");
        assertThat(error("serve", "-c", "3", "--parallel", "2")).isEqualTo("-c 3 over 2 slots leaves 1 tokens per slot");
        assertThat(error("serve", "--api-key-file", "/nonexistent/key")).startsWith("--api-key-file /nonexistent/key: cannot read it (");
        assertThat(error("serve", "--api-key", "a", "--api-key-file", "/nonexistent/key")).isEqualTo("--api-key and --api-key-file: give one of them");
    }
}
