package dev.panllama.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where tests find data: files bundled in the repository (always present; see testdata/PROVENANCE.md)
 * and the large oracle sets in ../shared (present in CI; tests that need them skip with a printed
 * reason when they are not).
 */
public final class TestFiles {
    private TestFiles() {}

    /** The repository root (surefire passes it; otherwise found from the working directory). */
    public static Path root() {
        String p = System.getProperty("panllama.root");
        if (p != null) return Path.of(p).toAbsolutePath().normalize();
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("testdata"))) dir = dir.getParent();
        if (dir == null) throw new IllegalStateException("cannot find the repository root (no testdata/ above " + Path.of("").toAbsolutePath() + ")");
        return dir;
    }

    /** The bundled model, models/stories260K.gguf. */
    public static Path stories260K() {
        return root().resolve("models/stories260K.gguf");
    }

    /** A file bundled under testdata/; fails (not skips) when missing, since a clone always has it. */
    public static Path bundled(String relative) {
        Path p = root().resolve("testdata").resolve(relative);
        if (!Files.exists(p)) throw new IllegalStateException("bundled test file missing: " + p);
        return p;
    }

    /** ../shared beside the checkout, if it exists. */
    public static Optional<Path> shared() {
        String p = System.getProperty("panllama.shared");
        Path dir = p != null ? Path.of(p) : root().resolveSibling("shared");
        return Files.isDirectory(dir) ? Optional.of(dir.toAbsolutePath().normalize()) : Optional.empty();
    }

    /**
     * A file of the llama.cpp zoo oracle ({@code reference/zoo/REL} in ../shared), or its bundled copy
     * under {@code testdata/zoo/REL} when ../shared is absent; empty when it is in neither place.
     */
    public static Optional<Path> findZoo(String relative) {
        Optional<Path> fromShared = shared().map(s -> s.resolve("reference/zoo").resolve(relative)).filter(Files::exists);
        if (fromShared.isPresent()) return fromShared;
        Path bundled = root().resolve("testdata/zoo").resolve(relative);
        return Files.exists(bundled) ? Optional.of(bundled) : Optional.empty();
    }

    /** Like {@link #findZoo} but skips the calling test, printing why, when the file is in neither place. */
    public static Path requireZoo(String relative) {
        Optional<Path> p = findZoo(relative);
        if (p.isEmpty()) {
            String reason = relative + " is neither in ../shared/reference/zoo nor bundled under testdata/zoo";
            System.out.println("SKIPPED: " + reason);
            Assumptions.abort(reason);
        }
        return p.get();
    }

    /**
     * A file of the FP8 oracle ({@code reference/fp8/REL} in ../shared), or its bundled copy under
     * {@code testdata/fp8/REL}; skips the calling test, printing why, when it is in neither place.
     */
    public static Path requireFp8(String relative) {
        Optional<Path> fromShared = shared().map(s -> s.resolve("reference/fp8").resolve(relative)).filter(Files::exists);
        if (fromShared.isPresent()) return fromShared.get();
        Path bundled = root().resolve("testdata/fp8").resolve(relative);
        if (Files.exists(bundled)) return bundled;
        String reason = relative + " is neither in ../shared/reference/fp8 nor bundled under testdata/fp8";
        System.out.println("SKIPPED: " + reason);
        Assumptions.abort(reason);
        return bundled;
    }

    /** A path under ../shared; skips the calling test, printing why, when it is not there. */
    public static Path requireShared(String relative) {
        Optional<Path> shared = shared();
        String reason = null;
        if (shared.isEmpty()) {
            reason = "../shared is not beside this checkout, so " + relative + " is unavailable";
        } else if (!Files.exists(shared.get().resolve(relative))) {
            reason = "../shared has no " + relative;
        }
        if (reason != null) {
            System.out.println("SKIPPED: " + reason);
            Assumptions.abort(reason);
        }
        return shared.get().resolve(relative);
    }
}
