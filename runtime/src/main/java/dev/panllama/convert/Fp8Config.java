package dev.panllama.convert;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The FP8 part of a checkpoint's {@code quantization_config}: {@code quant_method} "fp8" (DeepSeek,
 * AutoFP8, vLLM) or "compressed-tensors" with 8-bit float weights, and the block size of block-scaled
 * weights ({@code weight_block_size} [rows, cols], or compressed-tensors' {@code block_structure}).
 * Which layout a weight uses shows in its scale tensor's shape ({@link ScaleGrid#tile}).
 *
 * @param blockRows rows (outputs) per scale block, 0 when the config names no block size
 * @param blockCols columns (inputs) per scale block, 0 when none
 */
public record Fp8Config(String method, int blockRows, int blockCols) {

    /** The FP8 config of {@code quantization_config}, null when there is none; fails for other methods. */
    static Fp8Config of(JsonNode q, String where) {
        if (q == null || q.isNull()) return null;
        String method = q.path("quant_method").asText("");
        return switch (method) {
            case "fp8" -> {
                String fmt = q.path("fmt").asText("e4m3");
                if (!fmt.equals("e4m3") && !fmt.equals("e5m2")) {
                    throw new IllegalArgumentException(where + ": quantization_config.fmt '" + fmt + "' is not an FP8 format (e4m3, e5m2)");
                }
                int[] block = block(q.get("weight_block_size"), where + ": quantization_config.weight_block_size");
                yield new Fp8Config(method, block[0], block[1]);
            }
            case "compressed-tensors" -> compressedTensors(q, where);
            default -> throw new IllegalArgumentException(where + ": quantization_config.quant_method '" + method
                    + "' is not supported (panllama converts unquantized and FP8 checkpoints)");
        };
    }

    private static Fp8Config compressedTensors(JsonNode q, String where) {
        JsonNode groups = q.path("config_groups");
        int[] block = {0, 0};
        boolean any = false;
        for (JsonNode g : groups) {
            JsonNode w = g.path("weights");
            if (!w.path("type").asText("").equals("float") || w.path("num_bits").asInt() != 8) {
                throw new IllegalArgumentException(where + ": compressed-tensors weights of type '" + w.path("type").asText()
                        + "' with " + w.path("num_bits").asInt() + " bits are not FP8, which is the only kind panllama converts");
            }
            any = true;
            if (w.has("block_structure") && !w.get("block_structure").isNull()) {
                block = block(w.get("block_structure"), where + ": block_structure");
            }
        }
        if (!any) throw new IllegalArgumentException(where + ": compressed-tensors config without config_groups");
        return new Fp8Config("compressed-tensors", block[0], block[1]);
    }

    private static int[] block(JsonNode b, String where) {
        if (b == null || b.isNull()) return new int[]{0, 0};
        if (!b.isArray() || b.size() != 2 || !b.get(0).canConvertToInt() || !b.get(1).canConvertToInt()
                || b.get(0).asInt() <= 0 || b.get(1).asInt() <= 0) {
            throw new IllegalArgumentException(where + " " + b + " is not two positive integers");
        }
        return new int[]{b.get(0).asInt(), b.get(1).asInt()};
    }
}
