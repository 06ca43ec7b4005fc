package dev.panllama.gpu;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KernelSourcesTest {

    @Test
    void everyContractKernelHasItsModule() {
        for (String k : new String[]{"rmsnorm_f32", "rope_f32", "swiglu_f32", "add_f32"}) {
            assertThat(KernelSources.moduleOf(k)).as(k).isEqualTo("ops");
        }
        assertThat(KernelSources.moduleOf("f32_to_f16")).isEqualTo("dequant");
        assertThat(KernelSources.moduleOf("dq_q6_k_f16")).isEqualTo("dequant");
        assertThat(KernelSources.moduleOf("mv_iq4_xs")).isEqualTo("matvec");
        assertThat(KernelSources.moduleOf("attention_f32")).isEqualTo("attention");
        assertThatThrownBy(() -> KernelSources.moduleOf("softmax")).hasMessageContaining("softmax");
        assertThat(KernelSources.MODULES).containsExactly("matvec", "dequant", "ops", "attention");
    }

    @Test
    void resourcesFollowTheContract() {
        assertThat(KernelSources.ptxResource("ops")).isEqualTo("dev/panllama/gpu/ptx/ops.ptx");
        assertThat(KernelSources.sourceResource("matvec")).isEqualTo("dev/panllama/gpu/cuda/matvec.cu");
        assertThat(KernelSources.read("dev/panllama/gpu/no-such.ptx")).isNull();
    }

    @Test
    void ptxIsHandedOverNulTerminatedOnce() {
        byte[] text = "// ptx".getBytes(StandardCharsets.US_ASCII);
        byte[] z = KernelSources.nulTerminated(text);
        assertThat(z).hasSize(text.length + 1).endsWith((byte) 0).startsWith(text);
        assertThat(KernelSources.nulTerminated(z)).isSameAs(z);
    }

    @Test
    void nvrtcOnlyForPtxTheDriverCannotTake() {
        assertThat(KernelSources.nvrtcMayHelp(222)).isTrue();    // CUDA_ERROR_UNSUPPORTED_PTX_VERSION
        assertThat(KernelSources.nvrtcMayHelp(218)).isTrue();    // CUDA_ERROR_INVALID_PTX
        assertThat(KernelSources.nvrtcMayHelp(209)).isTrue();    // CUDA_ERROR_NO_BINARY_FOR_GPU
        assertThat(KernelSources.nvrtcMayHelp(2)).isFalse();     // out of memory: compiling again will not help
        assertThat(KernelSources.nvrtcMayHelp(200)).isFalse();   // CUDA_ERROR_INVALID_IMAGE: a corrupt resource
    }

    @Test
    void nvrtcCompilesForTheDeviceOrTheNewestArchitectureBelowIt() {
        int[] cuda126 = {50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90};
        assertThat(KernelSources.nvrtcArch(90, cuda126)).isEqualTo(90);
        assertThat(KernelSources.nvrtcArch(86, cuda126)).isEqualTo(86);
        assertThat(KernelSources.nvrtcArch(120, cuda126)).isEqualTo(90);   // a Blackwell GPU, NVRTC 12.6
        assertThat(KernelSources.nvrtcArch(88, new int[]{90, 80, 87})).isEqualTo(87);
        assertThatThrownBy(() -> KernelSources.nvrtcArch(37, cuda126)).hasMessageContaining("3.7");
        assertThat(KernelSources.nvrtcOptions(89)).containsExactly("--gpu-architecture=compute_89");
    }

    /** NVRTC has no include path: the shipped sources' headers are found by name on the class path and handed over. */
    @Test
    void headersOfTheShippedSourcesAreOnTheClassPath() {
        for (String module : new String[]{"matvec", "dequant"}) {
            String source = new String(KernelSources.read(KernelSources.sourceResource(module)), java.nio.charset.StandardCharsets.UTF_8);
            var headers = KernelSources.headers(source);
            org.assertj.core.api.Assertions.assertThat(headers.keySet()).containsExactly("halves.cuh", "blocks.cuh");
            org.assertj.core.api.Assertions.assertThat(headers.get("blocks.cuh")).contains("struct Q4_K");
        }
        String attention = new String(KernelSources.read(KernelSources.sourceResource("attention")), java.nio.charset.StandardCharsets.UTF_8);
        org.assertj.core.api.Assertions.assertThat(KernelSources.headers(attention).keySet()).containsExactly("halves.cuh");
        org.assertj.core.api.Assertions.assertThat(KernelSources.headers("// no includes")).isEmpty();
        assertThatThrownBy(() -> KernelSources.headers("#include \"nope.cuh\"")).hasMessageContaining("nope.cuh is missing");
    }
}
