import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.Tensor;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The figure issue 2 asks for: time and heap to open a large GGUF, which must not copy tensor data.
 * Opens the file {@code repeats} times (the first is the JVM's cold start of this code), each time
 * touching every tensor's metadata but no tensor bytes, and prints time, bytes allocated on the heap by
 * the opening thread, and the process's resident-set growth. Run with the runtime jar on the class path:
 * <pre>
 *   ./mvnw -q -B -pl runtime -am package -DskipTests
 *   $JAVA -cp runtime/target/classes:ffm-bindings/target/classes --enable-native-access=ALL-UNNAMED \
 *       scripts/OpenGgufFigure.java /tmp/b1-q8_0.gguf 5
 * </pre>
 */
public class OpenGgufFigure {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        System.out.printf("%s: %,d bytes%n", file, Files.size(file));
        for (int i = 0; i < repeats; i++) {
            long rss0 = rssKb();
            long heap0 = threads.getThreadAllocatedBytes(tid);
            long t0 = System.nanoTime();
            long elements = 0;
            int count;
            try (MappedGguf g = MappedGguf.open(file)) {
                for (Tensor t : g.tensors()) elements += t.elementCount();
                count = g.tensors().size();
                long ns = System.nanoTime() - t0;
                long heap = threads.getThreadAllocatedBytes(tid) - heap0;
                System.out.printf("open %d: %.1f ms, %d tensors, %,d elements, heap allocated %.2f MiB, RSS +%.2f MiB%n",
                        i + 1, ns / 1e6, count, elements, heap / 1048576.0, (rssKb() - rss0) / 1024.0);
            }
        }
    }

    private static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }
}
