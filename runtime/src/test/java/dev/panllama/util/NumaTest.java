package dev.panllama.util;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** --numa: the kernel's CPU lists and node directories are read as Linux writes them, and threads are really bound. */
class NumaTest {
    @AfterEach
    void reset() {
        Numa.init(Numa.Strategy.DISABLED);
    }

    @Test
    void parsesKernelCpuLists() {
        assertThat(Numa.parseCpuList("0-3,8,10-11")).containsExactly(0, 1, 2, 3, 8, 10, 11);
        assertThat(Numa.parseCpuList("5")).containsExactly(5);
        assertThat(Numa.parseCpuList("")).isEmpty();
    }

    /** Nodes with CPUs, in id order (node10 after node2); a memory-only node and other files are left out. */
    @Test
    void readsNodesFromSysfs(@TempDir Path sys) throws Exception {
        for (String[] n : new String[][]{{"node0", "0-1"}, {"node2", "4-5"}, {"node10", "6"}, {"node1", ""}}) {
            Files.createDirectories(sys.resolve(n[0]));
            Files.writeString(sys.resolve(n[0]).resolve("cpulist"), n[1] + "\n");
        }
        Files.writeString(sys.resolve("possible"), "0-10\n");
        List<Numa.Node> nodes = Numa.readNodes(sys);
        assertThat(nodes).extracting(Numa.Node::id).containsExactly(0, 2, 10);
        assertThat(nodes.get(1).cpus()).containsExactly(4, 5);
    }

    @Test
    void strategiesAreLlamaCppsNames() {
        assertThat(Numa.Strategy.parse("distribute")).isEqualTo(Numa.Strategy.DISTRIBUTE);
        assertThat(Numa.Strategy.parse("ISOLATE")).isEqualTo(Numa.Strategy.ISOLATE);
        assertThatThrownBy(() -> Numa.Strategy.parse("interleave")).hasMessage("--numa interleave: must be distribute, isolate or numactl");
    }

    /** A thread bound to one CPU runs on that CPU only; under a strategy, thread i gets its node's CPUs. */
    @Test
    void threadsAreBound() throws Exception {
        int[] all = Numa.currentAffinity();
        assertThat(all).isNotEmpty();
        AtomicReference<int[]> seen = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            assertThat(Numa.bind(new int[]{all[all.length - 1]})).isNull();
            seen.set(Numa.currentAffinity());
        });
        t.join();
        assertThat(seen.get()).containsExactly(all[all.length - 1]);
        assertThat(Numa.currentAffinity()).containsExactly(all);       // the calling thread is untouched

        List<Numa.Node> nodes = Numa.readNodes(Path.of("/sys/devices/system/node"));
        assumeTrue(!nodes.isEmpty(), "no NUMA nodes in /sys/devices/system/node");
        Numa.init(Numa.Strategy.DISTRIBUTE);
        Thread w = Thread.ofPlatform().start(() -> {
            assertThat(Numa.pinCurrentThread(1)).isNull();
            seen.set(Numa.currentAffinity());
        });
        w.join();
        assertThat(seen.get()).containsExactly(nodes.get(1 % nodes.size()).cpus());
        Numa.init(Numa.Strategy.NUMACTL);
        assertThat(Numa.cpusFor(3)).containsExactly(all);
    }
}
