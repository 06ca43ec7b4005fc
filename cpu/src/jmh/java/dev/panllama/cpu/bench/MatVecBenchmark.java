package dev.panllama.cpu.bench;

import dev.panllama.backend.Kernels;
import dev.panllama.cpu.CpuBackend;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
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
 * One-token matrix-vector products (generation's hot loop) through the public kernels API, per
 * weight type, on 4096 x 4096 matrices. The matrices are cycled and together exceed 128 MiB, four
 * times the L3 cache of the machines we measure on, so every call streams its weights from memory;
 * the {@code gigabytes} counter is then the weight bandwidth (rows x rowBytes per call) to compare
 * with {@link MemoryBandwidthBenchmark#read}. Types panllama cannot quantize get random blocks
 * ({@link RandomBlocks}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class MatVecBenchmark {
    private static final int K = 4096;
    private static final int ROWS = 4096;
    private static final long MIN_TOTAL_BYTES = 128L << 20;
    /** Distinct quantized rows; the matrices are filled with copies (contents do not change the traffic). */
    private static final int SOURCE_ROWS = 64;

    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_1", "IQ4_NL",
            "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ4_XS",
            "IQ2_K", "IQ3_K", "IQ4_K", "IQ5_K", "IQ6_K", "IQ2_KS", "IQ4_KS", "IQ4_KSS",
            "IQ2_K_R4", "IQ3_K_R4", "IQ4_K_R4", "Q4_0_R8", "Q8_0_R8"})
    public String type;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private Kernels kernels;
    private Tensor[] matrices;
    private float[] x;
    private float[] y;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        arena = Arena.ofShared();
        kernels = new CpuBackend().createKernels(threads);
        Random rnd = new Random(42);
        long rowBytes = t.rowBytes(K);
        MemorySegment source = arena.allocate(rowBytes * SOURCE_ROWS, 64);
        if (t.codec().canQuantize() && t.interleavedRows() == 1) {
            float[] row = new float[K];
            for (int r = 0; r < SOURCE_ROWS; r++) {
                for (int j = 0; j < K; j++) row[j] = (float) rnd.nextGaussian() * 0.02f;
                t.codec().quantize(row, 0, source, r * rowBytes, K);
            }
        } else {
            RandomBlocks.fill(t, source, rowBytes, SOURCE_ROWS, rnd);
        }
        // Copies move whole units: the interleaved types' groups of rows share their bytes.
        int unit = t.interleavedRows();
        long matrixBytes = rowBytes * ROWS;
        int count = (int) Math.max(2, (MIN_TOTAL_BYTES + matrixBytes - 1) / matrixBytes);
        matrices = new Tensor[count];
        for (int m = 0; m < count; m++) {
            MemorySegment data = arena.allocate(matrixBytes, 4096);
            for (int r = 0; r < ROWS; r += unit) {
                int src = (r / unit * 7 + m * 13) % (SOURCE_ROWS / unit) * unit;
                MemorySegment.copy(source, src * rowBytes, data, r * rowBytes, unit * rowBytes);
            }
            matrices[m] = new Tensor("w" + m, t, new long[]{K, ROWS}, data);
        }
        x = new float[K];
        for (int j = 0; j < K; j++) x[j] = (float) rnd.nextGaussian();
        y = new float[ROWS];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernels.close();
        arena.close();
    }

    @Benchmark
    public float matvec(WeightTraffic traffic) {
        Tensor w = matrices[next];
        next = next + 1 == matrices.length ? 0 : next + 1;
        kernels.matmul(w, x, y, 1);
        traffic.add(w.byteSize());
        return y[0];
    }
}
