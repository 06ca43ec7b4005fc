package dev.panllama.gguf;

import dev.panllama.tensor.GgmlType;

import java.util.Map;

/**
 * The {@code general.file_type} number llama.cpp writes for a model whose matrices all have one tensor
 * type (llama_ftype in include/llama.h; the same numbers in mainline and ik_llama.cpp for these types).
 * For a K-quant the number is the one llama.cpp's loader guesses from a file's dominant type, which is
 * also what llama-quantize writes for the aliases Q3_K, Q4_K and Q5_K: the _M mix.
 */
public final class LlamaFileType {
    private static final Map<GgmlType, Integer> BY_TYPE = Map.ofEntries(
            Map.entry(GgmlType.F32, 0),
            Map.entry(GgmlType.F16, 1),
            Map.entry(GgmlType.Q4_0, 2),
            Map.entry(GgmlType.Q4_1, 3),
            Map.entry(GgmlType.Q8_0, 7),
            Map.entry(GgmlType.Q5_0, 8),
            Map.entry(GgmlType.Q5_1, 9),
            Map.entry(GgmlType.Q2_K, 10),
            Map.entry(GgmlType.Q3_K, 12),   // Q3_K_M
            Map.entry(GgmlType.Q4_K, 15),   // Q4_K_M
            Map.entry(GgmlType.Q5_K, 17),   // Q5_K_M
            Map.entry(GgmlType.Q6_K, 18),
            Map.entry(GgmlType.IQ4_NL, 25),
            Map.entry(GgmlType.IQ4_XS, 30),
            Map.entry(GgmlType.BF16, 32));

    private LlamaFileType() {}

    /** Whether llama.cpp has a file type for models made of {@code type}. */
    public static boolean exists(GgmlType type) {
        return BY_TYPE.containsKey(type);
    }

    /** The file type of a model whose matrices are all {@code type}. */
    public static int of(GgmlType type) {
        Integer ft = BY_TYPE.get(type);
        if (ft == null) throw new IllegalArgumentException("llama.cpp has no model file type made of " + type);
        return ft;
    }
}
