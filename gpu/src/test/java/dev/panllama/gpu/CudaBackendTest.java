package dev.panllama.gpu;

import dev.panllama.backend.ComputeBackend;
import dev.panllama.backend.DeviceSet;
import dev.panllama.model.Model;
import dev.panllama.model.ModelOptions;
import dev.panllama.model.Session;
import dev.panllama.scheduler.PlacementSettings;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What runs on every machine: finding CUDA or saying precisely why not, and everything else unaffected. */
class CudaBackendTest {

    @Test
    void registeredForServiceLoader() {
        assertThat(ServiceLoader.load(ComputeBackend.class).stream().map(ServiceLoader.Provider::type))
                .contains(CudaBackend.class);
    }

    @Test
    void availableWithDevicesOrUnavailableWithAReason() {
        CudaBackend b = new CudaBackend();
        assertThat(b.name()).isEqualTo("CUDA");
        if (b.isAvailable()) {
            assertThat(b.unavailableReason()).isEmpty();
            assertThat(b.devices(1)).isNotEmpty().allSatisfy(d -> {
                assertThat(d.name()).matches("CUDA\\d+");
                assertThat(d.isHost()).isFalse();
                assertThat(d.description()).startsWith("NVIDIA ").contains(" GiB, compute ");
                assertThat(d.memoryTotal()).isPositive();
                d.close();
            });
        } else {
            assertThat(b.unavailableReason()).isNotBlank();
            assertThat(b.devices(1)).isEmpty();
            System.out.println("CUDA unavailable here: " + b.unavailableReason());
        }
    }

    /** Checked independently of jcuda: where the dynamic loader cannot open libcuda.so.1, that is the reason given. */
    @Test
    @SuppressWarnings("restricted")     // dlopen, to see for ourselves whether the driver library loads
    void withoutTheDriverTheReasonSaysSo() {
        boolean driver;
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libcuda.so.1", arena);
            driver = true;
        } catch (IllegalArgumentException e) {
            driver = false;
        }
        assumeTrue(!driver, "libcuda.so.1 loads on this machine");
        CudaBackend b = new CudaBackend();
        assertThat(b.isAvailable()).isFalse();
        assertThat(b.unavailableReason()).isEqualTo("no CUDA driver (libcuda.so.1 not found)");
    }

    @Test
    void deviceSetListsCudaAsUnavailableAndTheModelRunsOnTheCpu() throws IOException {
        CudaBackend b = new CudaBackend();
        assumeTrue(!b.isAvailable(), "CUDA is available here");
        try (DeviceSet set = DeviceSet.discover(1)) {
            assertThat(set.unavailable()).containsEntry("CUDA", b.unavailableReason());
            assertThat(set.accelerators()).isEmpty();
        }
        // -ngl 99 with no GPU: ignored with a note, as llama.cpp does, and the model runs.
        try (Model m = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS.withThreads(1).withContextLength(32)
                .withPlacement(PlacementSettings.CPU_ONLY.withGpuLayers(99)));
             Session s = m.newSession()) {
            assertThat(m.placement().isSplit()).isFalse();
            assertThat(m.placement().notes()).anySatisfy(n -> assertThat(n).contains("-ngl 99 is ignored"));
            assertThat(s.evaluate(1, 403, 407)).hasSize(m.config().vocabSize());
        }
    }
}
