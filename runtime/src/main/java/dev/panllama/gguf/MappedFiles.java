package dev.panllama.gguf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The model files mapped into memory right now, so that a failed read of one can be explained. A file
 * truncated while mapped makes the next read of a lost page raise SIGBUS, which the JVM reports as an
 * {@code InternalError} ("a fault occurred in an unsafe memory access operation") wherever the read was:
 * that says nothing of the file. {@link #describeFault()} finds the file that shrank.
 */
public final class MappedFiles {
    private MappedFiles() {}

    private record Mapping(Path path, long bytes) {}

    private static final Map<Object, Mapping> OPEN = new ConcurrentHashMap<>();

    /** A mapping until {@link #close()}. */
    public static final class Registration implements AutoCloseable {
        private Registration() {}

        @Override
        public void close() { OPEN.remove(this); }
    }

    /** Records that {@code bytes} of {@code path} are mapped. */
    public static Registration register(Path path, long bytes) {
        Registration r = new Registration();
        OPEN.put(r, new Mapping(path.toAbsolutePath(), bytes));
        return r;
    }

    /** Whether {@code t}, or one of its causes, is the JVM's report of a fault in a read of mapped memory. */
    public static boolean isMappedReadFault(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof InternalError && c.getMessage() != null && c.getMessage().contains("unsafe memory access")) return true;
        }
        return false;
    }

    /** One line for the user: the mapped file that changed on disk, or what else can make such a read fail. */
    public static String describeFault() {
        List<Mapping> open = List.copyOf(OPEN.values());
        for (Mapping m : open) {
            String now;
            try {
                long size = Files.size(m.path());
                if (size >= m.bytes()) continue;
                now = String.format(Locale.ROOT, "now %,d", size);
            } catch (IOException e) {
                now = "now gone";
            }
            return String.format(Locale.ROOT, "%s changed on disk while mapped (%,d bytes when loaded, %s): a model file must not be"
                    + " truncated or rewritten while panllama uses it", m.path(), m.bytes(), now);
        }
        String files = open.isEmpty() ? "a mapped file" : open.stream().map(m -> m.path().toString()).distinct()
                .reduce((a, b) -> a + ", " + b).orElseThrow();
        return "reading " + files + " failed (an I/O error, or the file changed on disk while mapped);"
                + " --no-mmap reads the model into memory instead";
    }
}
