package dev.panllama.cli;

import dev.panllama.gpu.CudaBackend;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code panllama --list-devices}: the devices found, and CUDA either as CUDA0... or as unavailable with its reason. */
class ListDevicesTest {

    @Test
    void cudaIsListedWithItsDevicesOrWhyNot() {
        CliRun r = CliRun.of("--list-devices");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("Available devices:").contains("\n  CPU ").contains("\n  CPU_REF ");
        CudaBackend cuda = new CudaBackend();
        if (cuda.isAvailable()) {
            assertThat(r.out()).containsPattern("\n  CUDA0 +NVIDIA .*, compute \\d+\\.\\d+ \\([\\d,]+ MiB total\\)");
        } else {
            assertThat(r.out()).contains("\n  CUDA     unavailable: " + cuda.unavailableReason() + "\n");
            System.out.println("--list-devices here: " + r.out().lines().filter(l -> l.contains("CUDA")).findFirst().orElseThrow().strip());
        }
    }
}
