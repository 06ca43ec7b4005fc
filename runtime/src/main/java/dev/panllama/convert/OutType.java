package dev.panllama.convert;

import dev.panllama.tensor.GgmlType;

import java.util.Locale;

/**
 * What {@code panllama convert --outtype} makes of the matrices. As in llama.cpp's converter, 1-d
 * tensors, norms, biases and the MoE router stay F32 whatever is asked; a matrix whose rows are not
 * whole Q8_0 blocks falls back to F16.
 */
public enum OutType {
    F32(GgmlType.F32), F16(GgmlType.F16), BF16(GgmlType.BF16), Q8_0(GgmlType.Q8_0),
    /** FP8 weights stay E4M3 with their scale tensors; the other matrices keep their type (their source float type). */
    FP8(GgmlType.F8_E4M3);

    private final GgmlType matrixType;

    OutType(GgmlType matrixType) {
        this.matrixType = matrixType;
    }

    /** The type the matrices get (F8_E4M3 for FP8, where only the FP8 weights get it). */
    public GgmlType matrixType() { return matrixType; }

    public String cliName() { return name().toLowerCase(Locale.ROOT); }

    public static OutType parse(String s) {
        for (OutType t : values()) if (t.cliName().equalsIgnoreCase(s)) return t;
        throw new IllegalArgumentException("unknown --outtype '" + s + "' (f32, f16, bf16, q8_0, fp8)");
    }

    /** The type tensor {@code s} is written as. */
    GgmlType typeFor(SourceTensor s) {
        if (staysF32(s)) return GgmlType.F32;
        return switch (this) {
            case F32, F16, BF16 -> matrixType;
            case Q8_0 -> s.ne0() % GgmlType.Q8_0.blockSize() == 0 ? GgmlType.Q8_0 : GgmlType.F16;
            case FP8 -> s.fp8() != null ? GgmlType.F8_E4M3 : s.asIs() != null ? s.asIs().type() : s.lossless();
        };
    }

    /** convert_hf_to_gguf.py's rule: 1-d tensors, norms, non-weights (biases) and ffn_gate_inp are F32. */
    static boolean staysF32(SourceTensor s) {
        String n = s.name();
        return s.shape().length <= 1 || n.endsWith("_norm.weight") || !n.endsWith(".weight") || n.endsWith("ffn_gate_inp.weight");
    }

    /**
     * The type a loader gives a tensor: FP8 weights become Q8_0 (F16 when rows are not whole blocks),
     * tensors usable as they are stay so, and the rest (permuted or stacked) take their lossless type.
     */
    static GgmlType loadTypeFor(SourceTensor s) {
        if (s.scaledFp8()) {
            return s.ne0() % GgmlType.Q8_0.blockSize() == 0 ? GgmlType.Q8_0 : GgmlType.F16;
        }
        return s.asIs() != null ? s.asIs().type() : s.lossless();
    }
}
