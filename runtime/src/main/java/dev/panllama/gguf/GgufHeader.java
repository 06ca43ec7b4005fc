package dev.panllama.gguf;

import java.util.List;

/**
 * The parsed header of one GGUF file: version, metadata, tensor infos, and where the data section
 * starts. Produced by {@link GgufParser}; every offset and size in it has been checked against the file.
 */
public record GgufHeader(int version, GgufMetadata metadata, List<GgufTensorInfo> tensors, int alignment,
                         long dataOffset, long fileSize) {
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String KEY_ALIGNMENT = "general.alignment";
}
