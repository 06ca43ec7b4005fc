package dev.panllama.gpu;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class UnavailabilityTest {
    /** What jcuda 12.6's LibUtils throws on a machine without the NVIDIA driver (the nested loader errors are in its message). */
    private static final String JCUDA_NO_DRIVER = """
            Error while loading native library "JCudaDriver-12.6.0-linux-x86_64"
            Operating system name: Linux
            Architecture         : amd64
            Architecture bit size: 64
            ---(start of nested stack traces)---
            Stack trace from the attempt to load the library as a file:
            java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /usr/java/packages/lib:/usr/lib64:/lib64:/lib:/usr/lib
            Stack trace from the attempt to load the library as a resource:
            java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file: No such file or directory
            ---(end of nested stack traces)---
            """;

    @Test
    void aMissingDriverIsSaidPlainly() {
        assertThat(Unavailability.nativeLibrary(new UnsatisfiedLinkError(JCUDA_NO_DRIVER)))
                .isEqualTo("no CUDA driver (libcuda.so.1 not found)");
        // The reason may also sit in a cause.
        Throwable wrapped = new ExceptionInInitializerError(new UnsatisfiedLinkError(JCUDA_NO_DRIVER));
        assertThat(Unavailability.nativeLibrary(wrapped)).isEqualTo("no CUDA driver (libcuda.so.1 not found)");
    }

    @Test
    void otherMissingLibrariesAreNamed() {
        String nvrtc = JCUDA_NO_DRIVER.replace("JCudaDriver", "JNvrtc").replace("libcuda.so.1", "libnvrtc.so.12");
        assertThat(Unavailability.nativeLibrary(new UnsatisfiedLinkError(nvrtc)))
                .isEqualTo("jcuda's native library needs libnvrtc.so.12, which was not found");
        assertThat(Unavailability.missingLibrary("x: libcublas.so.12: cannot open shared object file")).isEqualTo("libcublas.so.12");
        assertThat(Unavailability.missingLibrary("something else")).isNull();
    }

    @Test
    void aPlatformWithoutJcudaNativesIsSaidPlainly() {
        String noNatives = JCUDA_NO_DRIVER.replace("x86_64", "aarch64").replace(
                "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-aarch64.so: libcuda.so.1: cannot open shared object file: No such file or directory",
                "java.io.IOException: No resource found with name '/lib/libJCudaDriver-12.6.0-linux-aarch64.so'");
        assertThat(Unavailability.nativeLibrary(new UnsatisfiedLinkError(noNatives)))
                .isEqualTo("jcuda has no native library for this platform on the class path (libJCudaDriver-12.6.0-linux-aarch64.so)");
    }

    @Test
    void anyOtherLoadFailureGivesItsFirstLine() {
        Throwable t = new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver-12.6.0-apple-aarch64\"\nmore");
        assertThat(Unavailability.nativeLibrary(t))
                .isEqualTo("jcuda's native library could not be loaded: Error while loading native library \"JCudaDriver-12.6.0-apple-aarch64\"");
        assertThat(Unavailability.nativeLibrary(new NoClassDefFoundError())).startsWith("jcuda's native library could not be loaded: java.lang.NoClassDefFoundError");
    }

    @Test
    void cuInitFailuresNameTheError() {
        assertThat(Unavailability.cuInit(100, "CUDA_ERROR_NO_DEVICE")).isEqualTo("no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)");
        assertThat(Unavailability.cuInit(35, "CUDA_ERROR_INSUFFICIENT_DRIVER")).contains("older").endsWith("(cuInit: CUDA_ERROR_INSUFFICIENT_DRIVER)");
        assertThat(Unavailability.cuInit(999, "CUDA_ERROR_UNKNOWN")).isEqualTo("cuInit failed: CUDA_ERROR_UNKNOWN");
        assertThat(Unavailability.noDevices()).contains("0 devices");
        assertThat(Unavailability.missingKernels("dev/panllama/gpu/ptx/ops.ptx")).contains("not built").contains("ops.ptx");
    }

    @Test
    void deviceDescriptions() {
        assertThat(CudaDevice.describe("NVIDIA H100 80GB HBM3", 85_030_420_480L, 9, 0)).isEqualTo("NVIDIA H100 80GB HBM3, 79.2 GiB, compute 9.0");
        assertThat(CudaDevice.describe("Tesla T4 ", 15L << 30, 7, 5)).isEqualTo("NVIDIA Tesla T4, 15.0 GiB, compute 7.5");
    }
}
