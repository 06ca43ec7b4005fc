package dev.panllama.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;

/**
 * Where each kernel's code comes from (gpu/KERNELS.md): four modules, each shipped as PTX
 * ({@code dev/panllama/gpu/ptx/<module>.ptx}) and as its CUDA source ({@code dev/panllama/gpu/cuda/<module>.cu})
 * for NVRTC when the driver rejects the PTX; and the choices around that fallback.
 */
final class KernelSources {
    private KernelSources() {}

    static final List<String> MODULES = List.of("matvec", "dequant", "ops", "attention");

    // CUresult values after which the shipped .cu is compiled by NVRTC for the device instead.
    static final int CUDA_ERROR_NO_BINARY_FOR_GPU = 209;
    static final int CUDA_ERROR_INVALID_PTX = 218;
    static final int CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;

    /** The module holding a kernel. */
    static String moduleOf(String kernel) {
        if (kernel.startsWith("mv_")) return "matvec";
        if (kernel.startsWith("dq_") || kernel.equals("f32_to_f16")) return "dequant";
        if (kernel.equals("attention_f32")) return "attention";
        return switch (kernel) {
            case "rmsnorm_f32", "rope_f32", "swiglu_f32", "add_f32",
                 "add_rows_f32", "copy_rows_f32", "moe_combine_f32" -> "ops";
            default -> throw new IllegalArgumentException("no CUDA kernel named " + kernel);
        };
    }

    static String ptxResource(String module) {
        return "dev/panllama/gpu/ptx/" + module + ".ptx";
    }

    static String sourceResource(String module) {
        return "dev/panllama/gpu/cuda/" + module + ".cu";
    }

    /**
     * The headers a module's source includes by quoted name ({@code #include "blocks.cuh"}), in order,
     * each as its name and text: what NVRTC is handed, since it has no include path to search.
     */
    static java.util.LinkedHashMap<String, String> headers(String source) {
        java.util.LinkedHashMap<String, String> out = new java.util.LinkedHashMap<>();
        java.util.regex.Matcher m = INCLUDE.matcher(source);
        while (m.find()) {
            byte[] h = read("dev/panllama/gpu/cuda/" + m.group(1));
            if (h == null) throw new IllegalStateException("dev/panllama/gpu/cuda/" + m.group(1) + " is missing from the class path");
            out.put(m.group(1), new String(h, java.nio.charset.StandardCharsets.UTF_8));
        }
        return out;
    }

    private static final java.util.regex.Pattern INCLUDE = java.util.regex.Pattern.compile("(?m)^\\s*#\\s*include\\s+\"([^\"]+)\"");

    /** The first module whose PTX is missing from the class path, or null when all are there. */
    static String missingPtx() {
        for (String m : MODULES) {
            if (KernelSources.class.getClassLoader().getResource(ptxResource(m)) == null) return ptxResource(m);
        }
        return null;
    }

    /** A resource's bytes, or null when absent. */
    static byte[] read(String resource) {
        try (InputStream in = KernelSources.class.getClassLoader().getResourceAsStream(resource)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
    }

    /** PTX handed to cuModuleLoadData must end with a NUL byte. */
    static byte[] nulTerminated(byte[] text) {
        if (text.length > 0 && text[text.length - 1] == 0) return text;
        return Arrays.copyOf(text, text.length + 1);
    }

    /** Whether a cuModuleLoadData failure means "this driver cannot take this PTX" (so NVRTC may). */
    static boolean nvrtcMayHelp(int cuResult) {
        return cuResult == CUDA_ERROR_UNSUPPORTED_PTX_VERSION || cuResult == CUDA_ERROR_INVALID_PTX
                || cuResult == CUDA_ERROR_NO_BINARY_FOR_GPU;
    }

    /**
     * The virtual architecture NVRTC compiles for: the device's compute capability (major*10 + minor), or
     * the newest one NVRTC supports below it when NVRTC predates the device.
     */
    static int nvrtcArch(int computeCapability, int[] supported) {
        int best = -1;
        for (int a : supported) if (a <= computeCapability && a > best) best = a;
        if (best < 0) {
            throw new IllegalStateException("NVRTC supports compute capabilities " + Arrays.toString(supported)
                    + ", none at or below the device's " + computeCapability / 10 + "." + computeCapability % 10);
        }
        return best;
    }

    static String[] nvrtcOptions(int arch) {
        return new String[]{"--gpu-architecture=compute_" + arch};
    }
}
