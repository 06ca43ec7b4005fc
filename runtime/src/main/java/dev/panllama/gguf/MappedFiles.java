package dev.panllama.gguf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

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
    /**
     * The last mappings closed, newest first: the error usually unwinds through the model's close before
     * anyone describes it, and the file to blame is the one just unmapped.
     */
    private static final Deque<Mapping> RECENTLY_CLOSED = new ConcurrentLinkedDeque<>();
    private static final int RECENT = 16;

    /** A mapping until {@link #close()}. */
    public static final class Registration implements AutoCloseable {
        private Registration() {}

        @Override
        public void close() {
            Mapping m = OPEN.remove(this);
            if (m == null) return;
            RECENTLY_CLOSED.addFirst(m);
            while (RECENTLY_CLOSED.size() > RECENT) RECENTLY_CLOSED.pollLast();
        }
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
        List<Mapping> candidates = new ArrayList<>(open);
        candidates.addAll(RECENTLY_CLOSED);
        for (Mapping m : candidates) {
            long size;
            try {
                size = Files.size(m.path());
            } catch (IOException e) {
                continue;          // deleted or replaced: the mapping keeps the old file, so it cannot fault
            }
            if (size >= m.bytes()) continue;
            return String.format(Locale.ROOT, "%s changed on disk while mapped (%,d bytes when loaded, now %,d): a model file must"
                    + " not be truncated or rewritten while panllama uses it", m.path(), m.bytes(), size);
        }
        List<Mapping> named = open.isEmpty() ? candidates.stream().limit(1).toList() : open;
        String files = named.isEmpty() ? "a mapped file" : named.stream().map(m -> m.path().toString()).distinct()
                .reduce((a, b) -> a + ", " + b).orElseThrow();
        return "reading " + files + " failed (an I/O error, or the file changed on disk while mapped);"
                + " --no-mmap reads the model into memory instead";
    }
}
