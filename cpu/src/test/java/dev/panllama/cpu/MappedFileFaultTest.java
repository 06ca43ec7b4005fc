package dev.panllama.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A weight file truncated while mapped must give the JVM's InternalError, which the tools turn into
 * "changed on disk while mapped", and never crash the JVM. Two ways it crashed: C2 code with Vector API
 * loads alone is not marked as making unsafe accesses, so HotSpot treats its SIGBUS as fatal
 * (VecMath.FAULT_GUARD), and HotSpot cannot decode some AVX loads to step over them (MappedPages). So
 * every dedicated kernel, on both matmul paths, is compiled by C2 (-Xbatch, low threshold) in a child
 * JVM at this run's vector width, its file truncated, and run again.
 */
class MappedFileFaultTest {
    @Test
    void truncatedWeightsRaiseAnErrorInEveryKernel(@TempDir Path dir) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-XX:MaxVectorSize=" + FloatVector.SPECIES_PREFERRED.vectorByteSize(),
                "-XX:-TieredCompilation", "-XX:CompileThreshold=200", "-Xbatch", "-XX:-CreateCoredumpOnCrash",
                // A crash report where CI keeps it (the module's target/), not in the deleted temp dir.
                "-XX:ErrorFile=" + Path.of("target", "mapped-fault-hs_err_%p.log").toAbsolutePath(),
                "-cp", System.getProperty("java.class.path"), MappedFaultProbe.class.getName(), dir.toString(), "600"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        boolean finished = p.waitFor(5, TimeUnit.MINUTES);
        if (!finished) p.destroyForcibly();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        System.out.println(out);
        assertThat(finished).as("the probe finished within 5 minutes").isTrue();
        assertThat(p.exitValue()).as("the probe JVM exited normally (a crash names the kernel on the last line):%n%s", out).isZero();
        assertThat(out).contains("done").doesNotContain("no fault");
        assertThat(out.lines().filter(l -> l.endsWith(": InternalError")).count()).isEqualTo(3L * countDedicated());
    }

    private static long countDedicated() {
        return java.util.Arrays.stream(dev.panllama.tensor.GgmlType.values()).filter(KernelTable::isDedicated).count();
    }
}
