package dev.panllama.quantize;

import dev.panllama.tensor.GgmlType;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The target of a quantization, as llama-quantize's TYPE argument names it: a default tensor type
 * plus, for the _S/_M/_L K-quant names, a mix of types chosen per tensor. The ids are llama.cpp's
 * llama_ftype numbers (include/llama.h; ik_llama.cpp's for its own types), written to
 * {@code general.file_type}. The bare K-quant names Q3_K, Q4_K and Q5_K are llama-quantize's aliases
 * of the _M mixes.
 */
public enum QuantMix {
    F32(0, GgmlType.F32),
    F16(1, GgmlType.F16),
    BF16(32, GgmlType.BF16),
    Q4_0(2, GgmlType.Q4_0),
    Q4_1(3, GgmlType.Q4_1),
    Q5_0(8, GgmlType.Q5_0),
    Q5_1(9, GgmlType.Q5_1),
    Q8_0(7, GgmlType.Q8_0),
    Q2_K(10, GgmlType.Q2_K),
    Q3_K_S(11, GgmlType.Q3_K),
    Q3_K_M(12, GgmlType.Q3_K),
    Q3_K_L(13, GgmlType.Q3_K),
    Q4_K_S(14, GgmlType.Q4_K),
    Q4_K_M(15, GgmlType.Q4_K),
    Q5_K_S(16, GgmlType.Q5_K),
    Q5_K_M(17, GgmlType.Q5_K),
    Q6_K(18, GgmlType.Q6_K),
    IQ4_NL(25, GgmlType.IQ4_NL),
    IQ4_XS(30, GgmlType.IQ4_XS),
    // ik_llama.cpp's types, with its llama_ftype numbers (ik_llama.cpp include/llama.h). Its own
    // per-tensor rules for these mixes are not reproduced: without --pure they get llama.cpp's
    // generic ones (the output matrix q6_K, attn_k/attn_v q8_0 with 8 experts) and panllama's MoE rules.
    IQ2_K(138, GgmlType.IQ2_K),
    IQ3_K(139, GgmlType.IQ3_K),
    IQ4_K(140, GgmlType.IQ4_K),
    IQ5_K(141, GgmlType.IQ5_K),
    IQ6_K(142, GgmlType.IQ6_K),
    IQ4_KS(145, GgmlType.IQ4_KS),
    IQ2_KS(147, GgmlType.IQ2_KS),
    IQ4_KSS(148, GgmlType.IQ4_KSS),
    IQ2_K_R4(338, GgmlType.IQ2_K_R4),
    IQ3_K_R4(339, GgmlType.IQ3_K_R4),
    IQ4_K_R4(340, GgmlType.IQ4_K_R4);

    private final int fileType;
    private final GgmlType defaultType;

    QuantMix(int fileType, GgmlType defaultType) {
        this.fileType = fileType;
        this.defaultType = defaultType;
    }

    /** llama.cpp's llama_ftype number, the value of {@code general.file_type}. */
    public int fileType() { return fileType; }

    /** The type every quantizable tensor gets unless a rule of the mix says otherwise. */
    public GgmlType defaultType() { return defaultType; }

    /** Whether the default type is a block-quantized one (the mix rules apply only then, as in llama.cpp). */
    public boolean isQuantized() {
        return defaultType != GgmlType.F32 && defaultType != GgmlType.F16 && defaultType != GgmlType.BF16;
    }

    /** The mix named {@code name} (any case; Q3_K, Q4_K, Q5_K mean the _M mixes), or the one with that ftype number. */
    public static QuantMix parse(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        switch (n) {
            case "Q3_K" -> { return Q3_K_M; }
            case "Q4_K" -> { return Q4_K_M; }
            case "Q5_K" -> { return Q5_K_M; }
            default -> { }
        }
        for (QuantMix m : values()) {
            if (m.name().equals(n)) return m;
        }
        if (n.chars().allMatch(Character::isDigit) && !n.isEmpty() && n.length() < 4) {
            int id = Integer.parseInt(n);
            for (QuantMix m : values()) {
                if (m.fileType == id) return m;
            }
        }
        throw new IllegalArgumentException("unknown quantization type '" + name + "' (types: " + names() + ")");
    }

    /** All names, for messages and help. */
    public static String names() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")) + " (Q3_K, Q4_K, Q5_K: the _M mixes)";
    }
}
