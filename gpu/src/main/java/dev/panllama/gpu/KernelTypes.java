package dev.panllama.gpu;

import dev.panllama.tensor.GgmlType;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Which weight types the CUDA kernels read as they are (gpu/KERNELS.md: {@code mv_<type>} and
 * {@code dq_<type>_f16}) and which are converted to F16 by the host codecs when placed. Every type with a
 * codec runs; the ones without kernels cost F16's 16 bits per weight on the device.
 */
final class KernelTypes {
    private KernelTypes() {}

    /** The contract's type list, in its order. */
    static final Set<GgmlType> NATIVE = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_XS);

    static boolean runsNatively(GgmlType t) {
        return NATIVE.contains(t);
    }

    /** The type a weight of type {@code t} has on the device: itself, or F16 after conversion at place time. */
    static GgmlType storedType(GgmlType t) {
        if (runsNatively(t)) return t;
        if (!t.hasCodec()) {
            throw new UnsupportedOperationException("CUDA cannot hold " + t + " weights: the type has neither a CUDA kernel nor a codec to convert it");
        }
        return GgmlType.F16;
    }

    /** The matvec kernel for a stored type, e.g. {@code mv_q4_k}. */
    static String matvec(GgmlType stored) {
        return "mv_" + suffix(stored);
    }

    /** The dequantize-to-F16 kernel for a stored type, e.g. {@code dq_iq4_xs_f16}. */
    static String dequant(GgmlType stored) {
        return "dq_" + suffix(stored) + "_f16";
    }

    private static String suffix(GgmlType t) {
        if (!runsNatively(t)) throw new IllegalArgumentException(t + " has no CUDA kernel (it is stored as F16)");
        return t.name().toLowerCase(Locale.ROOT);
    }
}
