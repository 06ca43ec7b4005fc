package dev.panllama.cpu.bench;

import dev.panllama.backend.Kernels;
import dev.panllama.cpu.CpuBackend;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import org.openjdk.jmh.annotations.AuxCounters;
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
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * A prompt batch (the batched matmul path): a 2048 x 2048 matrix times {@code tokens} activation
 * vectors, through the public kernels API. The secondary result {@code gflops} is 2 x rows x k x
 * tokens / 10^9 per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class MatMulBenchmark {
    private static final int K = 2048;
    private static final int ROWS = 2048;

    @Param({"Q4_0", "Q8_0", "Q4_K"})
    public String type;

    @Param({"512"})
    public int tokens;

    @Param({"2"})
    public int threads;

    private Arena arena;
    private Kernels kernels;
    private Tensor w;
    private float[] x;
    private float[] y;

    /** Floating-point operations done, as a JMH secondary result (per second). */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Flops {
        public double gflops;

        @Setup(Level.Iteration)
        public void reset() { gflops = 0; }
    }

    @Setup(Level.Trial)
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        arena = Arena.ofShared();
        kernels = new CpuBackend().createKernels(threads);
        Random rnd = new Random(42);
        long rowBytes = t.rowBytes(K);
        MemorySegment data = arena.allocate(rowBytes * ROWS, 4096);
        float[] row = new float[K];
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < K; j++) row[j] = (float) rnd.nextGaussian() * 0.02f;
            t.codec().quantize(row, 0, data, r * rowBytes, K);
        }
        w = new Tensor("w", t, new long[]{K, ROWS}, data);
        x = new float[K * tokens];
        for (int j = 0; j < x.length; j++) x[j] = (float) rnd.nextGaussian();
        y = new float[ROWS * tokens];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernels.close();
        arena.close();
    }

    @Benchmark
    public float matmul(Flops flops) {
        kernels.matmul(w, x, y, tokens);
        flops.gflops += 2.0 * ROWS * K * tokens / 1e9;
        return y[0];
    }
}
