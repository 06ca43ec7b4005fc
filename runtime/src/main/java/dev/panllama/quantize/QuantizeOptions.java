package dev.panllama.quantize;

import dev.panllama.tensor.GgmlType;

/**
 * What {@code panllama quantize} was asked for.
 *
 * @param mix                the target (llama-quantize's TYPE)
 * @param pure               every quantizable tensor gets the mix's default type (--pure)
 * @param outputType         type of output.weight (--output-tensor-type), or null
 * @param tokenEmbeddingType type of token_embd.weight (--token-embedding-type), or null
 * @param customRules        per-tensor rules (--custom-q)
 * @param llamaMixOnly       use llama-quantize's mix rules unchanged, without panllama's MoE rules
 * @param allowRequantize    allow converting tensors that are already block-quantized (--allow-requantize)
 * @param imatrix            importance matrix (--imatrix), or null
 */
public record QuantizeOptions(QuantMix mix, boolean pure, GgmlType outputType, GgmlType tokenEmbeddingType,
                              CustomRules customRules, boolean llamaMixOnly, boolean allowRequantize,
                              ImportanceMatrix imatrix) {

    public QuantizeOptions {
        if (mix == null) throw new IllegalArgumentException("no quantization type");
        if (customRules == null) customRules = CustomRules.NONE;
        checkTarget(outputType, "--output-tensor-type");
        checkTarget(tokenEmbeddingType, "--token-embedding-type");
    }

    /** Just a mix, everything else at llama-quantize's defaults. */
    public static QuantizeOptions of(QuantMix mix) {
        return new QuantizeOptions(mix, false, null, null, CustomRules.NONE, false, false, null);
    }

    private static void checkTarget(GgmlType type, String option) {
        if (type != null && (!type.hasCodec() || !type.codec().canQuantize())) {
            throw new IllegalArgumentException(option + ": panllama cannot quantize to " + type.ggmlName());
        }
    }
}
