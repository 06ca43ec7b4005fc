package dev.panllama.gpu;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Why CUDA cannot run here, in the words {@code --list-devices} prints. */
final class Unavailability {
    private Unavailability() {}

    static final int CUDA_ERROR_INSUFFICIENT_DRIVER = 35;
    static final int CUDA_ERROR_NO_DEVICE = 100;

    private static final Pattern MISSING_RESOURCE = Pattern.compile("No resource found with name '/?(?:lib/)?([^']+)'");
    private static final Pattern MISSING_LIBRARY = Pattern.compile("([\\w.+-]+\\.so(?:\\.[\\d.]+)?): cannot open shared object file");

    /**
     * jcuda's native library failed to load. Its error message carries the loader's reason: without
     * the NVIDIA driver that is {@code libcuda.so.1: cannot open shared object file}.
     */
    static String nativeLibrary(Throwable t) {
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) all.append(c).append('\n');
        String missing = missingLibrary(all.toString());
        if (missing != null && missing.startsWith("libcuda.so")) return "no CUDA driver (" + missing + " not found)";
        if (missing != null) return "jcuda's native library needs " + missing + ", which was not found";
        Matcher resource = MISSING_RESOURCE.matcher(all);
        if (resource.find()) {
            return "jcuda has no native library for this platform on the class path (" + resource.group(1) + ")";
        }
        String first = t.getMessage() == null ? t.toString() : t.getMessage().lines().findFirst().orElse(t.toString());
        return "jcuda's native library could not be loaded: " + first.strip();
    }

    /** The first shared library a loader error says it could not open, or null. */
    static String missingLibrary(String loaderMessage) {
        Matcher m = MISSING_LIBRARY.matcher(loaderMessage);
        return m.find() ? m.group(1) : null;
    }

    /** cuInit returned {@code code}, named {@code name} (CUresult.stringFor). */
    static String cuInit(int code, String name) {
        return switch (code) {
            case CUDA_ERROR_NO_DEVICE -> "no CUDA device (cuInit: " + name + ")";
            case CUDA_ERROR_INSUFFICIENT_DRIVER -> "the CUDA driver is older than the CUDA 12 that jcuda 12.6 needs (cuInit: " + name + ")";
            default -> "cuInit failed: " + name;
        };
    }

    static String noDevices() {
        return "no CUDA device (the driver reports 0 devices)";
    }

    /** The kernels were not built into this jar (gpu/build-ptx.sh writes them). */
    static String missingKernels(String resource) {
        return "CUDA kernels not built: resource " + resource + " is not on the class path";
    }
}
