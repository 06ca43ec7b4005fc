package dev.panllama.safetensors;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file or index that cannot be read; the message names the file and the field at fault. */
public final class SafetensorsFormatException extends IOException {
    public SafetensorsFormatException(Path file, String field, String problem) {
        super(file + ": " + field + ": " + problem);
    }

    public SafetensorsFormatException(Path file, String field, String problem, Throwable cause) {
        super(file + ": " + field + ": " + problem, cause);
    }
}
