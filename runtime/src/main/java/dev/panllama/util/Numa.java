package dev.panllama.util;

import dev.panllama.ffm.libc.libc_h;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama.cpp's {@code --numa}: which CPUs the CPU backend's threads run on, on a machine of several
 * NUMA nodes. Process-wide and set once before a model loads, as {@code llama_numa_init} is.
 * <ul>
 *   <li>{@code distribute}: thread i runs on the CPUs of node i mod nodes, spreading the threads and
 *       (by first touch) the pages they read over all nodes;</li>
 *   <li>{@code isolate}: every thread runs on the node the program started on;</li>
 *   <li>{@code numactl}: every thread runs on the CPU set the program was started with (e.g. by
 *       {@code numactl --cpunodebind=0}).</li>
 * </ul>
 * Also as llama.cpp: with a strategy the model's mapping is advised RANDOM rather than prefetched, so
 * pages are read where they are first used; and the kernel's automatic NUMA balancing, which has been
 * seen to slow inference down, gets a warning.
 */
public final class Numa {
    private Numa() {}

    public enum Strategy {
        DISABLED, DISTRIBUTE, ISOLATE, NUMACTL;

        /** {@code distribute}, {@code isolate} or {@code numactl}, as llama.cpp spells them. */
        public static Strategy parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "distribute" -> DISTRIBUTE;
                case "isolate" -> ISOLATE;
                case "numactl" -> NUMACTL;
                default -> throw new IllegalArgumentException("--numa " + s + ": must be distribute, isolate or numactl");
            };
        }
    }

    /** A node and its CPUs (from {@code /sys/devices/system/node/nodeN/cpulist}). */
    public record Node(int id, int[] cpus) {}

    private static final Path SYS_NODES = Path.of("/sys/devices/system/node");
    /** Bytes of the CPU masks passed to sched_*affinity: 1024 CPUs, glibc's cpu_set_t. */
    private static final int MASK_BYTES = 128;

    private static volatile Strategy strategy = Strategy.DISABLED;
    private static List<Node> nodes = List.of();
    private static int startNode;
    private static int[] startCpus = new int[0];
    private static volatile boolean warned;

    /**
     * Sets the strategy for the threads started from now on; returns warnings to print (a single node,
     * NUMA balancing on). Fails with a message where the CPU topology cannot be read.
     */
    public static synchronized List<String> init(Strategy s) {
        List<String> warnings = new ArrayList<>();
        if (s == Strategy.DISABLED) {
            strategy = s;
            return warnings;
        }
        List<Node> found = readNodes(SYS_NODES);
        if (found.isEmpty()) throw new IllegalArgumentException("--numa: no NUMA nodes under " + SYS_NODES + " (not Linux?)");
        int[] allowed = currentAffinity();
        int cpu = libc_h.sched_getcpu();
        int node = found.getFirst().id();
        for (Node n : found) if (Arrays.stream(n.cpus()).anyMatch(c -> c == cpu)) node = n.id();
        nodes = found;
        startNode = node;
        startCpus = allowed;
        strategy = s;
        if (found.size() == 1) warnings.add("--numa " + s.name().toLowerCase(Locale.ROOT) + ": this machine has one NUMA node; the threads stay on its CPUs");
        try {
            Path balancing = Path.of("/proc/sys/kernel/numa_balancing");
            if (Files.exists(balancing) && !Files.readString(balancing).strip().equals("0")) {
                warnings.add("/proc/sys/kernel/numa_balancing is enabled, which has been observed to impair performance"
                        + " (echo 0 > /proc/sys/kernel/numa_balancing turns it off)");
            }
        } catch (IOException ignored) {
            // unreadable: nothing to warn about
        }
        return warnings;
    }

    public static Strategy strategy() { return strategy; }

    /** The CPUs thread {@code index} of the CPU backend runs on under the strategy; empty when it may run anywhere. */
    public static int[] cpusFor(int index) {
        return switch (strategy) {
            case DISABLED -> new int[0];
            case DISTRIBUTE -> nodes.get(index % nodes.size()).cpus();
            case ISOLATE -> nodes.stream().filter(n -> n.id() == startNode).findFirst().orElseThrow().cpus();
            case NUMACTL -> startCpus;
        };
    }

    /**
     * Binds the calling thread to {@link #cpusFor cpusFor(index)}; returns null, or why it could not (the
     * thread then runs where the OS puts it).
     */
    public static String pinCurrentThread(int index) {
        int[] cpus = cpusFor(index);
        return cpus.length == 0 ? null : bind(cpus);
    }

    /** Binds the calling thread to {@code cpus}; null, or why it could not. */
    static String bind(int[] cpus) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            for (int c : cpus) {
                if (c >= MASK_BYTES * 8) continue;
                long word = mask.getAtIndex(ValueLayout.JAVA_LONG, c / 64);
                mask.setAtIndex(ValueLayout.JAVA_LONG, c / 64, word | 1L << (c % 64));
            }
            if (libc_h.sched_setaffinity(0, MASK_BYTES, mask) == 0) return null;
            String why = "--numa: could not bind a thread to CPUs " + Arrays.toString(cpus) + ": sched_setaffinity failed: " + NativeMemory.lastError();
            if (!warned) {
                warned = true;
                System.getLogger(Numa.class.getName()).log(System.Logger.Level.WARNING, why);
            }
            return why;
        }
    }

    /** The CPUs the calling thread may run on. */
    public static int[] currentAffinity() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            if (libc_h.sched_getaffinity(0, MASK_BYTES, mask) != 0) {
                throw new IllegalStateException("sched_getaffinity failed: " + NativeMemory.lastError());
            }
            List<Integer> cpus = new ArrayList<>();
            for (int c = 0; c < MASK_BYTES * 8; c++) {
                if ((mask.getAtIndex(ValueLayout.JAVA_LONG, c / 64) >>> (c % 64) & 1) != 0) cpus.add(c);
            }
            return cpus.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    private static final Pattern NODE_DIR = Pattern.compile("node(\\d+)");

    /** The nodes that have CPUs, in id order. */
    static List<Node> readNodes(Path sysNodes) {
        List<Node> out = new ArrayList<>();
        try (var dirs = Files.list(sysNodes)) {
            for (Path d : dirs.sorted().toList()) {
                Matcher m = NODE_DIR.matcher(d.getFileName().toString());
                Path list = d.resolve("cpulist");
                if (!m.matches() || !Files.exists(list)) continue;
                int[] cpus = parseCpuList(Files.readString(list).strip());
                if (cpus.length > 0) out.add(new Node(Integer.parseInt(m.group(1)), cpus));
            }
        } catch (IOException e) {
            return List.of();
        }
        out.sort((a, b) -> Integer.compare(a.id(), b.id()));
        return out;
    }

    /** The kernel's CPU list format: {@code 0-3,8,10-11}. */
    static int[] parseCpuList(String list) {
        List<Integer> cpus = new ArrayList<>();
        if (list.isEmpty()) return new int[0];
        for (String part : list.split(",")) {
            String[] range = part.strip().split("-");
            int from = Integer.parseInt(range[0]), to = range.length > 1 ? Integer.parseInt(range[1]) : from;
            for (int c = from; c <= to; c++) cpus.add(c);
        }
        return cpus.stream().mapToInt(Integer::intValue).toArray();
    }
}
