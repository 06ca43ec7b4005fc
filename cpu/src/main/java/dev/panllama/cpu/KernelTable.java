package dev.panllama.cpu;

import dev.panllama.tensor.GgmlType;

import java.util.EnumMap;
import java.util.Map;

/**
 * Which {@link RowKernel} runs each tensor type. Every type with a codec today has a dedicated kernel
 * (cpu/BENCHMARKS.md gives their speeds); a type that gains a codec before it gains a kernel runs
 * through {@link CodecRowKernel} (correct, slow).
 */
final class KernelTable {
    private static final Map<GgmlType, RowKernel> DEDICATED = new EnumMap<>(GgmlType.class);

    static {
        DEDICATED.put(GgmlType.F32, FloatRowKernels.F32_KERNEL);
        DEDICATED.put(GgmlType.F16, FloatRowKernels.F16_KERNEL);
        DEDICATED.put(GgmlType.BF16, FloatRowKernels.BF16_KERNEL);
        DEDICATED.put(GgmlType.Q8_0, new Q8_0RowKernel());
        DEDICATED.put(GgmlType.Q4_0, new Q4_0RowKernel());
        DEDICATED.put(GgmlType.Q4_1, new Q4_1RowKernel());
        DEDICATED.put(GgmlType.Q5_0, new Q5_0RowKernel());
        DEDICATED.put(GgmlType.Q5_1, new Q5_1RowKernel());
        DEDICATED.put(GgmlType.Q8_1, new Q8_1RowKernel());
        DEDICATED.put(GgmlType.IQ4_NL, new IQ4_NLRowKernel());
        DEDICATED.put(GgmlType.Q2_K, new Q2_KRowKernel());
        DEDICATED.put(GgmlType.Q3_K, new Q3_KRowKernel());
        DEDICATED.put(GgmlType.Q4_K, new Q4_KRowKernel());
        DEDICATED.put(GgmlType.Q5_K, new Q5_KRowKernel());
        DEDICATED.put(GgmlType.Q6_K, new Q6_KRowKernel());
        DEDICATED.put(GgmlType.Q8_K, new Q8_KRowKernel());
        DEDICATED.put(GgmlType.IQ4_XS, new IQ4_XSRowKernel());
    }

    private final Map<GgmlType, RowKernel> cache = new EnumMap<>(GgmlType.class);

    synchronized RowKernel forType(GgmlType type) {
        return cache.computeIfAbsent(type, t -> {
            RowKernel k = DEDICATED.get(t);
            if (k != null) return k;
            if (t.hasCodec()) return new CodecRowKernel(t.codec(), dotFormat(t));
            throw new UnsupportedOperationException("no CPU kernel for tensor type " + t);
        });
    }

    /**
     * How ggml rounds activations before the dot product with weights of this type (the type traits'
     * vec_dot_type): 8 bits per 32 for the legacy types and IQ4_NL, per 256 for the K-quants and IQ4_XS.
     * Following it keeps our results close to llama.cpp's on quantized models.
     */
    static ActivationFormat dotFormat(GgmlType t) {
        return switch (t) {
            case Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, IQ4_NL -> ActivationFormat.Q8_0;
            case Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS, Q8_K -> ActivationFormat.Q8_K;
            default -> ActivationFormat.F32;
        };
    }

    /** Whether a type has a dedicated (vectorized) kernel rather than the codec fallback. */
    static boolean isDedicated(GgmlType type) {
        return DEDICATED.containsKey(type);
    }
}
