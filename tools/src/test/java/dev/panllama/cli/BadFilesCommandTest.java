package dev.panllama.cli;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 15, files: a bad input or output path fails before any work with one line that names the
 * file and the problem. Outputs that are not regular files are tested with a directory and a FIFO
 * made here, never with a real device.
 */
class BadFilesCommandTest {
    private static final String STORIES = TestFiles.stories260K().toString();

    private static String error(String... args) {
        CliRun r = CliRun.of(args);
        assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
        assertThat(r.err().strip()).as(r.err()).startsWith("panllama " + args[0] + ": error: ").doesNotContain("\n");
        return r.err().strip().replaceFirst("^panllama \\S+: error: ", "");
    }

    /** A named pipe, as mkfifo makes it; skips the test where there is no mkfifo. */
    private static Path fifo(Path dir) throws Exception {
        Path p = dir.resolve("pipe");
        try {
            Process mk = new ProcessBuilder("mkfifo", p.toString()).redirectErrorStream(true).start();
            assumeTrue(mk.waitFor(10, TimeUnit.SECONDS) && mk.exitValue() == 0, "mkfifo failed");
        } catch (java.io.IOException e) {
            assumeTrue(false, "no mkfifo: " + e.getMessage());
        }
        return p;
    }

    @Test
    void textInputsNameTheFileAndTheProblem(@TempDir Path dir) throws Exception {
        Path binary = dir.resolve("binary.dat");
        Files.write(binary, new byte[]{'a', 'b', 'c', (byte) 0xff, 'd'});
        assertThat(error("run", "-f", dir.toString())).isEqualTo(dir + ": is a directory, not a text file");
        assertThat(error("run", "-f", binary.toString())).isEqualTo(binary + ": not UTF-8 text at byte 3");
        assertThat(error("perplexity", "-f", binary.toString())).isEqualTo(binary + ": not UTF-8 text at byte 3");
        assertThat(error("perplexity", "-f", dir.resolve("none.txt").toString())).isEqualTo(dir.resolve("none.txt") + ": no such file");
        assertThat(error("tokenize", "-f", dir.toString())).isEqualTo(dir + ": is a directory, not a text file");
        assertThat(error("serve", "--chat-template-file", binary.toString())).isEqualTo(binary + ": not UTF-8 text at byte 3");
        assertThat(error("chat", "--chat-template-file", dir.toString())).isEqualTo(dir + ": is a directory, not a text file");
        // a text file that is fine still runs, multi-byte characters included
        Path text = dir.resolve("prompt.txt");
        Files.writeString(text, "Once upon a time, café", StandardCharsets.UTF_8);
        CliRun ok = CliRun.of("run", "-f", text.toString(), "-n", "1");
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.out()).startsWith("Once upon a time, café");
    }

    /** A FIFO would block opening it forever; a model, a GGUF or an imatrix must be a regular file. */
    @Test
    void mappedInputsMustBeRegularFiles(@TempDir Path dir) throws Exception {
        Path pipe = fifo(dir);
        String notMapped = pipe + ": not a regular file (a pipe, device or socket), so not ";
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            assertThat(error("gguf", pipe.toString())).isEqualTo(notMapped + "a GGUF file that can be mapped");
            assertThat(error("run", "-m", pipe.toString(), "-p", "x")).isEqualTo(notMapped + "a model file that can be mapped");
            assertThat(error("tokenize", "-m", pipe.toString(), "-p", "x")).isEqualTo(notMapped + "a GGUF file that can be mapped");
            assertThat(error("quantize", pipe.toString(), dir.resolve("q.gguf").toString(), "Q8_0"))
                    .isEqualTo(notMapped + "a GGUF file that can be mapped");
            assertThat(error("quantize", "--imatrix", pipe.toString(), STORIES, dir.resolve("q.gguf").toString(), "Q8_0"))
                    .isEqualTo(notMapped + "an importance matrix file that can be mapped");
            assertThat(error("perplexity", "--kl-divergence", "--kl-divergence-base", dir.toString()))
                    .isEqualTo(dir + ": is a directory, not a file of log-probabilities");
        });
    }

    /**
     * The GGUF writers write a temporary file and rename it over the output: that replaced a FIFO or
     * a device (/dev/full) with a regular file and exited 0. Now they refuse, before any work, and
     * the FIFO is still a FIFO.
     */
    @Test
    void ggufOutputsMustBeRegularFilesInAnExistingDirectory(@TempDir Path dir) throws Exception {
        Path pipe = fifo(dir);
        String renamed = "; the output is written to a new file renamed over it, so give a file path";
        assertThat(error("quantize", STORIES, pipe.toString(), "Q8_0"))
                .isEqualTo(pipe + ": not a regular file (a pipe, device or socket)" + renamed);
        assertThat(Files.exists(pipe)).isTrue();
        assertThat(Files.isRegularFile(pipe)).isFalse();
        assertThat(error("quantize", STORIES, dir.toString(), "Q8_0")).isEqualTo(dir + ": is a directory" + renamed);
        assertThat(error("synth", "--arch", "llama", "--preset", "tiny", "--type", "q8_0", pipe.toString()))
                .isEqualTo(pipe + ": not a regular file (a pipe, device or socket)" + renamed);
        assertThat(Files.isRegularFile(pipe)).isFalse();

        // a missing directory used to fail after all the work, naming the temporary .partial file
        Path missing = dir.resolve("no/such/dir/out.gguf");
        String noDir = missing + ": directory " + missing.getParent() + " does not exist";
        CliRun q = CliRun.of("quantize", STORIES, missing.toString(), "Q8_0");
        assertThat(q.exitCode()).isEqualTo(1);
        assertThat(q.out()).as("no plan printed: nothing done").isEmpty();
        assertThat(q.err().strip()).isEqualTo("panllama quantize: error: " + noDir);
        assertThat(error("synth", "--arch", "llama", "--preset", "tiny", "--type", "q8_0", missing.toString())).isEqualTo(noDir);
        assertThat(error("convert", dir.toString(), missing.toString())).isEqualTo(noDir);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("pipe");
        }
    }

    /** logits -o and the log-probability file are streamed: a pipe is fine, a directory is not. */
    @Test
    void streamedOutputs(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("nowhere/out.bin");
        assertThat(error("logits", "-p", "x", "-o", dir.toString())).isEqualTo(dir + ": is a directory; give a file path to write");
        assertThat(error("logits", "-p", "x", "-o", missing.toString()))
                .isEqualTo(missing + ": directory " + missing.getParent() + " does not exist");
        CliRun perplexity = CliRun.of("perplexity", "-f", TestFiles.bundled("text/tinystories_sample.txt").toString(), "-c", "128",
                "--kl-divergence-base", missing.toString());
        assertThat(perplexity.exitCode()).isEqualTo(1);
        assertThat(perplexity.out()).as("fails before scoring").isEmpty();
        assertThat(perplexity.err().strip()).isEqualTo("panllama perplexity: error: " + missing + ": directory " + missing.getParent()
                + " does not exist");
        CliRun devNull = CliRun.of("logits", "-p", "Once", "-o", "/dev/null");
        assertThat(devNull.exitCode()).as(devNull.err()).isZero();
    }

    /** Fuzzing finds: model paths that are not models. */
    @Test
    void modelPathsThatAreNotModels(@TempDir Path dir) throws Exception {
        Path empty = Files.createFile(dir.resolve("empty.gguf"));
        Path text = Files.writeString(dir.resolve("text.gguf"), "hello world");
        assertThat(error("run", "-m", empty.toString(), "-p", "x")).startsWith(empty + ": at byte 0 (header.magic): file is 0 bytes");
        assertThat(error("run", "-m", text.toString(), "-p", "x")).startsWith(text + ": at byte 0 (header.magic): not a GGUF file");
        assertThat(error("run", "-m", dir.toString(), "-p", "x")).isEqualTo(dir + ": is a directory without config.json,"
                + " neither a GGUF file nor a Hugging Face model");
        assertThat(error("bench", "-m", dir.toString())).isEqualTo(dir + ": is a directory, not a GGUF model file");
        assertThat(error("run", "-m", dir.resolve("none.gguf").toString(), "-p", "x")).isEqualTo(dir.resolve("none.gguf") + ": no such file");
    }
}
