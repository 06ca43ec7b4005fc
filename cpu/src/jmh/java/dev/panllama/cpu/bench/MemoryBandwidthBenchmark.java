package dev.panllama.cpu.bench;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The machine's memory bandwidth, the ceiling for {@link MatVecBenchmark}: {@code read} sums a 1 GiB
 * off-heap segment with the Vector API (read-only streaming, what a matrix-vector product does to its
 * weights); {@code copy} copies 512 MiB to another 512 MiB and counts both the bytes read and written.
 * Work is split into contiguous slices, one per thread, as the kernels split rows.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class MemoryBandwidthBenchmark {
    private static final long SIZE = 1L << 30;
    private static final VectorSpecies<Long> L = LongVector.SPECIES_256;
    private static final long STEP = 4L * L.vectorByteSize();

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private MemorySegment data;
    private ExecutorService pool;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        data = arena.allocate(SIZE, 4096);
        for (long i = 0; i < SIZE; i += 8) data.set(ValueLayout.JAVA_LONG, i, i * 0x9E3779B97F4A7C15L);
        pool = Executors.newFixedThreadPool(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.shutdown();
        arena.close();
    }

    @Benchmark
    public long read(WeightTraffic traffic) throws Exception {
        long sum = 0;
        for (Future<Long> f : split(SIZE, (from, to) -> sumSlice(data, from, to))) sum += f.get();
        traffic.add(SIZE);
        return sum;
    }

    @Benchmark
    public void copy(WeightTraffic traffic) throws Exception {
        long half = SIZE / 2;
        for (Future<Long> f : split(half, (from, to) -> {
            MemorySegment.copy(data, from, data, half + from, to - from);
            return 0L;
        })) {
            f.get();
        }
        traffic.add(2 * half);
    }

    private interface Slice {
        long run(long from, long to);
    }

    private List<Future<Long>> split(long bytes, Slice slice) {
        long per = bytes / threads / STEP * STEP;
        List<Future<Long>> parts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long from = t * per;
            long to = t == threads - 1 ? bytes : from + per;
            parts.add(pool.submit(() -> slice.run(from, to)));
        }
        return parts;
    }

    /** Four independent accumulators so that the adds never wait on each other. */
    private static long sumSlice(MemorySegment seg, long from, long to) {
        LongVector a0 = LongVector.zero(L), a1 = LongVector.zero(L), a2 = LongVector.zero(L), a3 = LongVector.zero(L);
        long vb = L.vectorByteSize();
        long i = from;
        for (; i + STEP <= to; i += STEP) {
            a0 = a0.add(LongVector.fromMemorySegment(L, seg, i, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(LongVector.fromMemorySegment(L, seg, i + vb, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(LongVector.fromMemorySegment(L, seg, i + 2 * vb, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(LongVector.fromMemorySegment(L, seg, i + 3 * vb, ByteOrder.LITTLE_ENDIAN));
        }
        long s = a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
        for (; i < to; i += 8) s += seg.get(ValueLayout.JAVA_LONG_UNALIGNED, i);
        return s;
    }
}
