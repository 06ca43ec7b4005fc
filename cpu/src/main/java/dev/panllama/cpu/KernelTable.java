package dev.panllama.cpu;

import dev.panllama.tensor.GgmlType;
import jdk.incubator.vector.FloatVector;

import java.util.EnumMap;
import java.util.Map;

/**
 * Which {@link RowKernel} runs each tensor type. Every type with a codec today has a dedicated kernel
 * (cpu/BENCHMARKS.md gives their speeds); a type that gains a codec before it gains a kernel runs
 * through {@link CodecRowKernel} (correct, slow).
 *
 * <p>The quantized kernels are written in fixed 256-bit shapes (IntDot). Where the JVM has no vectors
 * that wide (NEON, SSE, or {@code -XX:MaxVectorSize=16}) it emulates them, correct but about 200 times
 * slower (bench-1b Q4_0 generated 0.10 tok/s): there the quantized types that have a row codec decode
 * each row with it and dot in floats at the native width instead (1.9 tok/s on the same file). The
 * interleaved types (_R4, _R8) have no row codec and keep their emulated kernels.
 */
final class KernelTable {
    private static final Map<GgmlType, WeightKernel> DEDICATED = new EnumMap<>(GgmlType.class);

    static {
        DEDICATED.put(GgmlType.F32, FloatRowKernels.F32_KERNEL);
        DEDICATED.put(GgmlType.F16, FloatRowKernels.F16_KERNEL);
        DEDICATED.put(GgmlType.BF16, FloatRowKernels.BF16_KERNEL);
        DEDICATED.put(GgmlType.Q8_0, Q8RowKernel.Q8_0);
        DEDICATED.put(GgmlType.Q4_0, new Q4_0RowKernel());
        DEDICATED.put(GgmlType.Q4_1, new Q4_1RowKernel());
        DEDICATED.put(GgmlType.Q5_0, new Q5_0RowKernel());
        DEDICATED.put(GgmlType.Q5_1, new Q5_1RowKernel());
        DEDICATED.put(GgmlType.Q8_1, Q8RowKernel.Q8_1);
        DEDICATED.put(GgmlType.IQ4_NL, new IQ4_NLRowKernel());
        DEDICATED.put(GgmlType.Q2_K, new Q2_KRowKernel());
        DEDICATED.put(GgmlType.Q3_K, new Q3_KRowKernel());
        DEDICATED.put(GgmlType.Q4_K, new Q4_KRowKernel());
        DEDICATED.put(GgmlType.Q5_K, new Q5_KRowKernel());
        DEDICATED.put(GgmlType.Q6_K, new Q6_KRowKernel());
        DEDICATED.put(GgmlType.Q8_K, new Q8_KRowKernel());
        DEDICATED.put(GgmlType.IQ4_XS, new IQ4_XSRowKernel());
        DEDICATED.put(GgmlType.IQ4_K, new IQ4_KRowKernel());
        DEDICATED.put(GgmlType.IQ5_K, new IQ5_KRowKernel());
        DEDICATED.put(GgmlType.IQ6_K, new IQ6_KRowKernel());
        DEDICATED.put(GgmlType.IQ2_K, new IQ2_KRowKernel());
        DEDICATED.put(GgmlType.IQ3_K, new IQ3_KRowKernel());
        DEDICATED.put(GgmlType.IQ2_KS, new IQ2_KSRowKernel());
        DEDICATED.put(GgmlType.IQ4_KS, new IQ4_KSRowKernel());
        DEDICATED.put(GgmlType.IQ4_KSS, new IQ4_KSSRowKernel());
        DEDICATED.put(GgmlType.IQ2_K_R4, new IQ2_K_R4Kernel());
        DEDICATED.put(GgmlType.IQ3_K_R4, new IQ3_K_R4Kernel());
        DEDICATED.put(GgmlType.IQ4_K_R4, new IQ4_K_R4Kernel());
        DEDICATED.put(GgmlType.Q4_0_R8, new Q4_0_R8Kernel());
        DEDICATED.put(GgmlType.Q8_0_R8, new Q8_0_R8Kernel());
    }

    /** The narrowest preferred vector width at which the fixed 256-bit quantized kernels run natively. */
    static final int QUANTIZED_KERNEL_BITS = 256;

    private final Map<GgmlType, WeightKernel> cache = new EnumMap<>(GgmlType.class);
    private final int preferredBits;

    /** The kernels for this JVM's preferred vector width. */
    KernelTable() {
        this(FloatVector.SPECIES_PREFERRED.vectorBitSize());
    }

    /** The kernels a JVM whose preferred vector width is {@code preferredBits} runs. */
    KernelTable(int preferredBits) {
        this.preferredBits = preferredBits;
    }

    synchronized WeightKernel forType(GgmlType type) {
        return cache.computeIfAbsent(type, t -> {
            WeightKernel k = DEDICATED.get(t);
            boolean codecRow = t.hasCodec() && t.interleavedRows() == 1;
            boolean decodeRow = codecRow && (k == null || decodesQuantizedRows() && t.blockSize() > 1);
            if (decodeRow) return new CodecRowKernel(t.codec(), dotFormat(t));
            if (k != null) return k;
            throw new UnsupportedOperationException("no CPU kernel for tensor type " + t);
        });
    }

    /** Whether quantized types with a row codec decode rows at this table's width (see the class comment). */
    boolean decodesQuantizedRows() {
        return preferredBits < QUANTIZED_KERNEL_BITS;
    }

    /** The dedicated kernel of a type whatever the width (for tests that check it at every width). */
    static WeightKernel dedicated(GgmlType type) {
        WeightKernel k = DEDICATED.get(type);
        if (k == null) throw new IllegalArgumentException("no dedicated kernel for " + type);
        return k;
    }

    /**
     * How ggml rounds activations before the dot product with weights of this type (the type traits'
     * vec_dot_type): 8 bits per 32 for the legacy types and IQ4_NL, per 256 for the K-quants, IQ4_XS and
     * ik_llama.cpp's IQ*_K types. Following it keeps our results close to llama.cpp's on quantized models.
     * (ik_llama.cpp's AVX2 build takes Q4_0_R8 and Q8_0_R8 against its Q8_2_X4, blocks of 32 with
     * bf16 scales; Q8_0, its portable vec_dot_type for them, rounds the same values to 8 bits per 32.)
     */
    static ActivationFormat dotFormat(GgmlType t) {
        // each dedicated kernel states its own (its activation()); a type without one dots floats
        WeightKernel k = DEDICATED.get(t);
        return k != null ? k.activation() : ActivationFormat.F32;
    }

    /** Whether a type has a dedicated (vectorized) kernel rather than the codec fallback. */
    static boolean isDedicated(GgmlType type) {
        return DEDICATED.containsKey(type);
    }
}
