package dev.panllama.model;

import dev.panllama.gguf.LlamaFileType;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;

import java.util.EnumMap;
import java.util.Map;

/**
 * What llama.cpp calls a model's description ({@code llama_model_desc}: "llama 1B Q4_0"), size and
 * parameter count, as llama-bench prints them.
 *
 * <p>The size label comes from the layer count and a few widths, per architecture, as llama.cpp's
 * hparams loader assigns it (mainline src/llama-model.cpp c392e50 for llama and qwen2; ik_llama.cpp
 * src/llama-hparams.cpp 8337e4cd for qwen3 and qwen3moe); "?B" when no rule matches. The file-type
 * name is llama_model_ftype_name of {@code general.file_type}; without that key llama.cpp guesses the
 * type from the tensor type that most tensors have, and says "(guessed)".
 *
 * @param bytes  all tensor data (llama_model_size)
 * @param params all tensor elements (llama_model_n_params)
 */
public record ModelDescription(String arch, String sizeLabel, String fileType, long bytes, long params) {

    public static ModelDescription of(Model model) {
        return of(model.gguf(), model.config());
    }

    public static ModelDescription of(MappedGguf gguf, ModelConfig c) {
        String fileType = gguf.metadata().contains("general.file_type")
                ? fileTypeName(gguf.metadata().getInt("general.file_type"))
                : guessedFileType(gguf) + " (guessed)";
        return new ModelDescription(c.arch().ggufName(), sizeLabel(c), fileType, gguf.tensorBytes(), gguf.parameterCount());
    }

    /** "llama 1B Q4_0", as llama-bench's model column. */
    @Override
    public String toString() {
        return arch + " " + sizeLabel + " " + fileType;
    }

    static String sizeLabel(ModelConfig c) {
        int layers = c.blockCount();
        int embd = c.embeddingLength();
        return switch (c.arch()) {
            case LLAMA -> c.expertCount() == 8
                    ? switch (layers) { case 32 -> "8x7B"; case 56 -> "8x22B"; default -> "?B"; }
                    : switch (layers) {
                        case 16, 22 -> "1B";
                        case 26, 28 -> "3B";
                        // granite's vocab has 49152 tokens; Llama 1/2 fewer than 40000, Llama 3 more
                        case 32 -> c.vocabSize() == 49152 ? "3B" : c.vocabSize() < 40000 ? "7B" : "8B";
                        case 36 -> "8B";
                        case 40 -> "13B";
                        case 48 -> "34B";
                        case 60 -> "30B";
                        case 80 -> c.headCount() == c.headCountKv() ? "65B" : "70B";
                        default -> "?B";
                    };
            case QWEN2 -> switch (layers) {
                case 24 -> embd == 1024 ? "0.5B" : "1B";
                case 28 -> embd == 1536 ? "1.5B" : "7B";
                case 32 -> "7B";
                case 36 -> "3B";
                case 40 -> c.headCount() == 20 ? "4B" : "13B";
                case 48 -> "14B";
                case 64 -> "32B";
                case 80 -> "70B";
                default -> "?B";
            };
            case QWEN3 -> switch (layers) {
                case 28 -> embd == 1024 ? "0.6B" : "1.7B";
                case 36 -> embd == 2560 ? "4B" : "8B";
                case 40 -> "14B";
                case 64 -> "32B";
                default -> "?B";
            };
            case QWEN3MOE -> switch (layers) {
                case 48 -> "30B.A3B";
                case 94 -> "235B.A22B";
                default -> "?B";
            };
            // llama.cpp's deepseek2 sizes: V2-Lite has 27 layers, V2 60, V3/R1 61.
            case DEEPSEEK2 -> switch (layers) {
                case 27 -> "16B";
                case 60 -> "236B";
                case 61 -> "671B";
                default -> "?B";
            };
        };
    }

    /** llama_model_ftype_name for the file types both llama.cpp and ik_llama.cpp define (include/llama.h). */
    static String fileTypeName(int ftype) {
        return switch (ftype) {
            case 0 -> "all F32";
            case 1 -> "F16";
            case 2 -> "Q4_0";
            case 3 -> "Q4_1";
            case 7 -> "Q8_0";
            case 8 -> "Q5_0";
            case 9 -> "Q5_1";
            case 10 -> "Q2_K - Medium";
            case 11 -> "Q3_K - Small";
            case 12 -> "Q3_K - Medium";
            case 13 -> "Q3_K - Large";
            case 14 -> "Q4_K - Small";
            case 15 -> "Q4_K - Medium";
            case 16 -> "Q5_K - Small";
            case 17 -> "Q5_K - Medium";
            case 18 -> "Q6_K";
            case 19 -> "IQ2_XXS - 2.0625 bpw";
            case 20 -> "IQ2_XS - 2.3125 bpw";
            case 21 -> "Q2_K - Small";
            case 22 -> "IQ3_XS - 3.3 bpw";
            case 23 -> "IQ3_XXS - 3.0625 bpw";
            case 24 -> "IQ1_S - 1.5625 bpw";
            case 25 -> "IQ4_NL - 4.5 bpw";
            case 26 -> "IQ3_S - 3.4375 bpw";
            case 27 -> "IQ3_S mix - 3.66 bpw";
            case 28 -> "IQ2_S - 2.5 bpw";
            case 29 -> "IQ2_M - 2.7 bpw";
            case 30 -> "IQ4_XS - 4.25 bpw";
            case 31 -> "IQ1_M - 1.75 bpw";
            case 32 -> "BF16";
            default -> "unknown, may not work";
        };
    }

    /** The tensor type most tensors have, as a file-type name (llama_model_loader's guess). */
    private static String guessedFileType(MappedGguf gguf) {
        Map<GgmlType, Integer> counts = new EnumMap<>(GgmlType.class);
        for (Tensor t : gguf.tensors()) counts.merge(t.type(), 1, Integer::sum);
        GgmlType most = null;
        for (var e : counts.entrySet()) {
            if (most == null || e.getValue() > counts.get(most)) most = e.getKey();
        }
        return most != null && LlamaFileType.exists(most) ? fileTypeName(LlamaFileType.of(most)) : "all F32";
    }
}
