package dev.panllama.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The model shipped in the repository (models/stories260K.gguf), used when a command is given no
 * {@code -m}. The launcher passes the repository root as {@code -Dpanllama.home}.
 */
final class BundledModel {
    static final String RELATIVE = "models/stories260K.gguf";

    private BundledModel() {}

    static Path path() {
        String home = System.getProperty("panllama.home");
        Path p = home != null ? Path.of(home).resolve(RELATIVE) : Path.of(RELATIVE);
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("no model given and the bundled " + RELATIVE + " was not found at " + p.toAbsolutePath()
                    + " (run through ./panllama, or pass a file)");
        }
        return p;
    }
}
