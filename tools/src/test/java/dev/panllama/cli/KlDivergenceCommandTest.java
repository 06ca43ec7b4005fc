package dev.panllama.cli;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code perplexity --kl-divergence-base} then {@code --kl-divergence}, through the CLI. */
class KlDivergenceCommandTest {
    private static final String TEXT = TestFiles.bundled("text/tinystories_sample.txt").toString();

    /** The base run prints the usual perplexity (6.8466 as llama.cpp) and writes the file. */
    @Test
    void modelAgainstItselfHasZeroKldAndTheSameTopToken(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("stories260K.kld");
        CliRun write = CliRun.of("perplexity", "-f", TEXT, "-c", "128", "--kl-divergence-base", base.toString());
        assertThat(write.exitCode()).as(write.err()).isZero();
        assertThat(write.out()).contains("Final estimate: PPL = 6.84");
        assertThat(write.err()).contains("saving the log-probabilities of 14 chunks to " + base);
        assertThat(Files.size(base)).isEqualTo(20L + 4L * 14 * 128 + 2L * (512 + 4) * 63 * 14);

        CliRun read = CliRun.of("perplexity", "--kl-divergence-base", base.toString(), "--kl-divergence");
        assertThat(read.exitCode()).as(read.err()).isZero();
        System.out.println(read.out());
        assertThat(read.out()).contains("chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p");
        assertThat(read.out()).containsPattern("(?m)^  14    ");
        // 16-bit rows round each log-probability by half a step, 24/65535/2 = 1.8e-4 (a little more on rows
        // whose range reaches down to an unlikely next token): the KLD of a model with itself is below that.
        assertThat(Math.abs(statistic(read.out(), "Mean    KLD"))).isLessThan(2.5e-4);
        assertThat(statistic(read.out(), "Same top p")).isEqualTo(100.0);
        assertThat(statistic(read.out(), "Mean PPL(Q)                   ")).isCloseTo(6.8466, org.assertj.core.data.Offset.offset(0.007));
        // Rounding of the next token's log-probability only: 2.5e-4 relative at most.
        assertThat(Math.abs(statistic(read.out(), "Mean PPL(Q)-PPL(base)         "))).isLessThan(0.002);
    }

    /** Q4_K against F32 of the same random-weight zoo model: a small positive KLD, most top tokens kept. */
    @Test
    void quantizedZooModelDivergesALittleFromItsF32Original(@TempDir Path dir) throws Exception {
        Path f32 = TestFiles.requireZoo("zoo-llama-f32.gguf");
        Path q4k = TestFiles.requireZoo("zoo-llama-Q4_K.gguf");
        Path base = dir.resolve("zoo-f32.kld");
        CliRun write = CliRun.of("perplexity", "-m", f32.toString(), "-f", TEXT, "-c", "128", "--kl-divergence-base", base.toString());
        assertThat(write.exitCode()).as(write.err()).isZero();
        CliRun read = CliRun.of("perplexity", "-m", q4k.toString(), "--kl-divergence-base", base.toString(), "--kl-divergence");
        assertThat(read.exitCode()).as(read.err()).isZero();
        System.out.println("zoo-llama-Q4_K vs zoo-llama-f32, tinystories_sample -c 128:\n" + read.out());
        double kld = statistic(read.out(), "Mean    KLD");
        double sameTop = statistic(read.out(), "Same top p");
        // Q4_K (4.5 bits per weight) moves a random-weight model's distributions measurably but not far;
        // those distributions are nearly flat (PPL ~850 over 512 tokens), so near-ties at the top flip often.
        assertThat(kld).isBetween(1e-3, 0.1);
        assertThat(sameTop).isBetween(50.0, 99.0);
        assertThat(statistic(read.out(), "Mean PPL(Q)/PPL(base)         ")).isBetween(0.95, 1.05);
    }

    @Test
    void misuseIsExplained(@TempDir Path dir) throws Exception {
        CliRun noBase = CliRun.of("perplexity", "--kl-divergence");
        assertThat(noBase.exitCode()).isEqualTo(1);
        assertThat(noBase.err()).contains("--kl-divergence needs --kl-divergence-base FILE");
        CliRun noText = CliRun.of("perplexity");
        assertThat(noText.exitCode()).isEqualTo(1);
        assertThat(noText.err()).contains("missing -f TEXT");
        Path notABase = dir.resolve("x.kld");
        Files.writeString(notABase, "hello, this is text and no log-probabilities");
        CliRun bad = CliRun.of("perplexity", "--kl-divergence-base", notABase.toString(), "--kl-divergence");
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("does not look like a file of log-probabilities");

        Path base = dir.resolve("base.kld");
        assertThat(CliRun.of("perplexity", "-f", TEXT, "-c", "128", "--chunks", "2", "--kl-divergence-base", base.toString()).exitCode()).isZero();
        CliRun wrongCtx = CliRun.of("perplexity", "-c", "256", "--kl-divergence-base", base.toString(), "--kl-divergence");
        assertThat(wrongCtx.exitCode()).isEqualTo(1);
        assertThat(wrongCtx.err()).contains("holds chunks of 128 tokens: use -c 128");
        CliRun otherVocab = CliRun.of("perplexity", "-m", TestFiles.bundled("llama-2-tiny-random.gguf").toString(),
                "--kl-divergence-base", base.toString(), "--kl-divergence");
        assertThat(otherVocab.exitCode()).isEqualTo(1);
        assertThat(otherVocab.err()).contains("the base log-probabilities cover a vocabulary of 512 tokens");
    }

    /** The value of a "NAME: value ± error" statistics line (percentages without their sign). */
    private static double statistic(String out, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + ":\\s+(-?[0-9.]+)").matcher(out);
        assertThat(m.find()).as(name + " in\n" + out).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
