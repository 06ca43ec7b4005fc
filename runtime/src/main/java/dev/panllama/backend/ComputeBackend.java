package dev.panllama.backend;

import java.util.List;

/**
 * A family of {@link Device}s found with {@link java.util.ServiceLoader} (modules register theirs in
 * META-INF/services): the cpu module's Vector API CPU, the runtime's scalar CPU_REF, the gpu module's
 * CUDA devices. A backend that cannot run here says why, for {@code --list-devices}.
 */
public interface ComputeBackend {

    /** The backend's name, e.g. {@code CPU}, {@code CUDA}. */
    String name();

    /** Whether it can run here; when false, {@link #unavailableReason()} says why. */
    boolean isAvailable();

    default String unavailableReason() {
        return "";
    }

    /** Its devices, each using {@code threads} host threads where that applies (≤ 0: the backend's default). */
    List<Device> devices(int threads);

    /**
     * Its devices, with {@code threads} host threads for one token's work (generation, -t) and
     * {@code batchThreads} for a batch's (prompt processing, -tb); a backend without the distinction uses
     * {@code threads}.
     */
    default List<Device> devices(int threads, int batchThreads) {
        return devices(threads);
    }
}
