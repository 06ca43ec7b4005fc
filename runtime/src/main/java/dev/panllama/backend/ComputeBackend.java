package dev.panllama.backend;

/**
 * A provider of {@link Kernels}, found with {@link java.util.ServiceLoader} (the cpu and gpu modules
 * register theirs in META-INF/services). The highest-priority available one runs the model.
 */
public interface ComputeBackend {

    /** Device-style name: {@code CPU}, {@code CUDA0}. */
    String name();

    /** Higher wins when several are available. */
    int priority();

    /** Whether it can run here; when false, {@link #unavailableReason()} says why. */
    boolean isAvailable();

    default String unavailableReason() {
        return "";
    }

    /** Kernels using {@code threads} threads (≤ 0: the backend's default). */
    Kernels createKernels(int threads);
}
