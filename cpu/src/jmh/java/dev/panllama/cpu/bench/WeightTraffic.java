package dev.panllama.cpu.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Bytes moved by a benchmark, as a JMH secondary result. JMH divides an OPERATIONS counter by the
 * measured time in the benchmark's output unit (per second here), so {@code gigabytes} reads as GB/s
 * (10^9 bytes per second) next to the primary ops/s.
 */
@AuxCounters(AuxCounters.Type.OPERATIONS)
@State(Scope.Thread)
public class WeightTraffic {
    public double gigabytes;

    @Setup(Level.Iteration)
    public void reset() {
        gigabytes = 0;
    }

    void add(long bytes) {
        gigabytes += bytes / 1e9;
    }
}
