package dev.panllama.gpu;

import dev.panllama.backend.AttentionKernel;
import dev.panllama.backend.Kernels;
import dev.panllama.backend.ReferenceKernels;
import dev.panllama.kv.KvCache;
import dev.panllama.tensor.GgmlType;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static dev.panllama.gpu.KernelEmulator.f;
import static dev.panllama.gpu.KernelEmulator.i;
import static dev.panllama.gpu.KernelEmulator.l;
import static dev.panllama.gpu.KernelEmulator.same;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA kernels of gpu/src/main/cuda, run on the CPU (no GPU needed: see
 * gpu/src/test/cuda/cuda_emulation.h), agree with the Java reference: weight decoding with the tensor
 * codecs, ops with the {@link Kernels} default methods, attention with {@link AttentionKernel#reference}.
 * One dynamic test per launch; each launch also fails when the kernel writes outside its outputs,
 * into an input, or (g++ -fsanitize=alignment) through a misaligned pointer.
 *
 * <p>Tolerances: dequantization is bit-exact against {@code Float.floatToFloat16} of the codec's float;
 * a matvec result is within {@value #MV_TOL} of sum |w x| from the double-precision sum of the decoded
 * weights times x; rope, add and f32_to_f16 are bit-exact; rmsnorm and swiglu within a
 * relative {@value #OPS_TOL}; attention within
 * {@value #ATT_TOL} absolute (values are of order 1).
 *
 * <p>Skipped, saying why, when g++ is not on the PATH. Inputs, the launch list and outputs stay in the
 * temporary directory named in a failure, for running {@code kernel_emulator DIR} by hand.
 */
class KernelEmulationTest {

    static final double MV_TOL = 1e-5;
    static final double OPS_TOL = 1e-6;
    static final double ATT_TOL = 2e-5;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    private final Random rnd = new Random(20261123);
    private final List<Check> checks = new ArrayList<>();
    private KernelEmulator emu;

    @TestFactory
    Stream<DynamicTest> kernelsAgreeWithTheJavaReference() throws Exception {
        String problem = KernelEmulator.compilerProblem();
        if (problem != null) {
            // A skipped test of its own (an aborted factory is not counted as skipped by surefire).
            String why = "needs " + KernelEmulator.CXX + " to run the CUDA kernels on the CPU: " + problem;
            System.out.println("KernelEmulationTest skipped: " + why);
            return Stream.of(DynamicTest.dynamicTest("kernels on the CPU (g++ missing)", () -> assumeTrue(false, why)));
        }

        long t0 = System.nanoTime();
        emu = new KernelEmulator(dir);
        weights();
        ops();
        attention();
        Path exe = emu.compile(gpuModule());
        long t1 = System.nanoTime();
        KernelEmulator.Result result = emu.run(exe, 300);
        System.out.printf(Locale.ROOT, "KernelEmulationTest: %d launches; inputs and g++ %.1f s, emulation %.1f s (%s)%n",
                checks.size(), (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9, dir);
        return checks.stream().map(c -> DynamicTest.dynamicTest(c.label(), () -> {
            result.assertFinished(c.id(), c.label());
            try {
                c.verify().execute();
            } catch (AssertionError e) {
                throw new AssertionError(c.label() + ": " + e.getMessage() + " (emulator files in " + dir + ")", e);
            }
        }));
    }

    /** What launch id's outputs must satisfy. */
    private record Check(int id, String label, Executable verify) {}

    private void check(int id, String label, Executable verify) {
        checks.add(new Check(id, label, verify));
    }

    // ---- weights: dq_<type>_f16 and mv_<type> -------------------------------------------------------

    private void weights() {
        // type, k, rows, padding added to the row stride (rowBytes need not be the packed row length)
        Object[][] cases = {
            {GgmlType.F32, 512, 7, 0}, {GgmlType.F32, 515, 5, 0},
            {GgmlType.F16, 512, 7, 0}, {GgmlType.F16, 514, 7, 0}, {GgmlType.F16, 515, 5, 4},
            {GgmlType.BF16, 512, 7, 0}, {GgmlType.BF16, 513, 5, 2},
            {GgmlType.Q8_0, 512, 7, 0}, {GgmlType.Q8_0, 32, 5, 2},
            {GgmlType.Q4_0, 544, 7, 0}, {GgmlType.Q4_0, 64, 5, 4},
            {GgmlType.Q4_K, 512, 7, 0}, {GgmlType.Q4_K, 256, 5, 4},
            {GgmlType.Q5_K, 768, 7, 0}, {GgmlType.Q5_K, 256, 5, 2},
            {GgmlType.Q6_K, 512, 7, 0}, {GgmlType.Q6_K, 256, 5, 4},
            {GgmlType.IQ4_XS, 1024, 7, 0}, {GgmlType.IQ4_XS, 256, 5, 2},
        };
        for (Object[] c : cases) weightCase((GgmlType) c[0], (Integer) c[1], (Integer) c[2], (Integer) c[3]);
    }

    private static String kernelSuffix(GgmlType t) {
        return t.ggmlName().toLowerCase(Locale.ROOT);
    }

    private void weightCase(GgmlType t, int k, int rows, int pad) {
        int rb = Math.toIntExact(t.rowBytes(k) + pad);
        byte[] w = new byte[rows * rb];
        rnd.nextBytes(w);  // quantized blocks: random codes and scales; the padding stays random too
        MemorySegment seg = MemorySegment.ofArray(w);
        if (t == GgmlType.F32 || t == GgmlType.F16 || t == GgmlType.BF16) {
            for (int r = 0; r < rows; r++) t.codec().quantize(gaussian(k, 1f), 0, seg, (long) r * rb, k);
        } else {
            // Block scales of a realistic size (random bytes there would be huge, or NaN).
            for (int r = 0; r < rows; r++) {
                for (int b = 0; b < k / t.blockSize(); b++) {
                    int o = r * rb + b * t.typeSize();
                    switch (t) {
                        case Q6_K -> putHalf(w, o + 208, 0.01 * rnd.nextGaussian());
                        case Q4_K, Q5_K -> {
                            putHalf(w, o, 0.01 * rnd.nextGaussian());
                            putHalf(w, o + 2, 0.01 * rnd.nextGaussian());
                        }
                        default -> putHalf(w, o, 0.02 * rnd.nextGaussian());
                    }
                }
            }
        }
        float[] deq = new float[rows * k];
        for (int r = 0; r < rows; r++) t.codec().dequantize(seg, (long) r * rb, deq, r * k, k);
        String what = "k=" + k + " rows=" + rows + " rowBytes=" + rb + (pad > 0 ? " (+" + pad + ")" : "");

        // dq: one block per row and one block too many (it must write nothing); w and out misaligned.
        int[][] dqVariants = {{0, 0}, {1, 2}, {2, 4}};  // byte offsets of w, out
        for (int[] v : dqVariants) {
            KernelEmulator.Output out = emu.out(2L * rows * k, v[1]);
            String kernel = "dq_" + kernelSuffix(t) + "_f16";
            int id = emu.launch(kernel, rows + 1, 1, 256, 1, emu.in(w, v[0]), l(rb), out, i(k), i(rows));
            check(id, kernel + " " + what + " w+" + v[0] + "B out+" + v[1] + "B", () -> checkDequant(t, deq, out.halves(), k));
        }

        // mv: warps over rows, 4 per block (the last block partly idle); w and x misaligned.
        int[][] mvVariants = {{0, 0, 1}, {0, 0, 8}, {1, 4, 3}, {2, 8, 10}};  // byte offsets of w, x; tokens
        for (int[] v : mvVariants) {
            int tokens = v[2];
            float[] x = gaussian(tokens * k, 1f);
            KernelEmulator.Output y = emu.out(4L * tokens * rows, 0);
            String kernel = "mv_" + kernelSuffix(t);
            int id = emu.launch(kernel, (rows + 3) / 4, 1, 32, 4, emu.in(w, v[0]), l(rb), emu.in(x, v[1]), y, i(k), i(rows), i(tokens));
            check(id, kernel + " " + what + " tokens=" + tokens + " w+" + v[0] + "B x+" + v[1] + "B",
                    () -> checkMatvec(deq, x, y.floats(), k, rows, tokens));
        }
    }

    private static void checkDequant(GgmlType t, float[] deq, short[] got, int k) {
        int bad = 0;
        String first = null;
        for (int j = 0; j < deq.length; j++) {
            short want = Float.floatToFloat16(deq[j]);
            if (got[j] != want) {
                if (first == null) {
                    first = String.format(Locale.ROOT, "first at row %d, element %d: 0x%04x (%s), want 0x%04x = half(%s, the %s codec's value)",
                            j / k, j % k, got[j] & 0xFFFF, Float.float16ToFloat(got[j]), want & 0xFFFF, deq[j], t.ggmlName());
                }
                bad++;
            }
        }
        if (bad > 0) throw new AssertionError(bad + " of " + deq.length + " halves differ; " + first);
    }

    private static void checkMatvec(float[] deq, float[] x, float[] y, int k, int rows, int tokens) {
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double s = 0, a = 0;
                for (int j = 0; j < k; j++) {
                    double p = (double) deq[r * k + j] * x[t * k + j];
                    s += p;
                    a += Math.abs(p);
                }
                double got = y[t * rows + r];
                if (!(Math.abs(got - s) <= MV_TOL * a)) {
                    throw new AssertionError(String.format(Locale.ROOT,
                            "y[token %d][row %d] = %s but the double-precision sum of the codec's weights times x is %s"
                                    + " (error %.3g of sum |w x| = %.4g; tolerance %.0e)",
                            t, r, got, s, Math.abs(got - s) / a, a, MV_TOL));
                }
            }
        }
    }

    // ---- ops.cu and f32_to_f16 --------------------------------------------------------------------

    private void ops() {
        Kernels ref = new ReferenceKernels();

        int tokens = 3, dim = 1000;
        float eps = 1e-5f;
        float[] x = gaussian(tokens * dim, 2f), w = gaussian(dim, 1f), want = new float[tokens * dim];
        ref.rmsnorm(x, w, want, tokens, dim, eps);
        KernelEmulator.Output inPlace = emu.inout(x, 0);
        int id = emu.launch("rmsnorm_f32", tokens, 1, 256, 1, inPlace, emu.in(w, 0), same(0), i(dim), f(eps));
        check(id, "rmsnorm_f32 in place, 3 x 1000", () -> assertClose(inPlace.floats(), want, OPS_TOL));
        KernelEmulator.Output apart = emu.out(4L * tokens * dim, 0);
        id = emu.launch("rmsnorm_f32", tokens, 1, 256, 1, emu.in(x, 4), emu.in(w, 0), apart, i(dim), f(eps));
        check(id, "rmsnorm_f32 3 x 1000 to another buffer, x+4B", () -> assertClose(apart.floats(), want, OPS_TOL));

        int[][] ropes = {{5, 200, 64, 0}, {5, 200, 64, 1}, {2, 128, 128, 1}, {2, 128, 128, 0}};  // heads, headDim, nRot, neox
        for (int[] r : ropes) {
            int heads = r[0], headDim = r[1], nRot = r[2];
            boolean neox = r[3] == 1;
            float[] rx = gaussian(tokens * heads * headDim, 1f), cs = new float[tokens * nRot];
            for (int t = 0; t < tokens; t++) {
                for (int p = 0; p < nRot; p += 2) {
                    double theta = (t + 3) * Math.pow(10000, -(double) p / nRot);
                    cs[t * nRot + p] = (float) Math.cos(theta);
                    cs[t * nRot + p + 1] = (float) Math.sin(theta);
                }
            }
            KernelEmulator.Output o = emu.inout(rx, 0);
            float[] rw = rx.clone();
            ref.rope(rw, tokens, heads, headDim, nRot, cs, neox);
            String label = "rope_f32 " + (neox ? "neox" : "normal") + " heads=" + heads + " headDim=" + headDim + " nRot=" + nRot;
            id = emu.launch("rope_f32", tokens * heads, 1, 128, 1, o, emu.in(cs, 0), i(heads), i(headDim), i(nRot), i(neox ? 1 : 0));
            check(id, label, () -> assertClose(o.floats(), rw, 0));
        }

        int n = 3000, grid = (n + 255) / 256;
        float[] g = gaussian(n, 3f), u = gaussian(n, 1f);
        elementwise("swiglu_f32", g, u, n, grid, OPS_TOL, a -> ref.swiglu(a, u, n));
        elementwise("add_f32", g, u, n, grid, 0, a -> ref.add(a, u, n));
        graphOps();

        float[] h = halfConversionInputs();
        KernelEmulator.Output ho = emu.out(2L * h.length, 2);
        id = emu.launch("f32_to_f16", (h.length + 255) / 256, 1, 256, 1, emu.in(h, 0), ho, i(h.length));
        check(id, "f32_to_f16 of " + h.length + " values (zeros, infinities, overflow, subnormals, ties)", () -> {
            short[] got = ho.halves();
            for (int j = 0; j < h.length; j++) {
                if (got[j] != Float.floatToFloat16(h[j])) {
                    throw new AssertionError(String.format(Locale.ROOT, "f32_to_f16(%s) [bits 0x%08x] = 0x%04x, Float.floatToFloat16 gives 0x%04x",
                            h[j], Float.floatToRawIntBits(h[j]), got[j] & 0xFFFF, Float.floatToFloat16(h[j]) & 0xFFFF));
                }
            }
        });
    }

    /** kernel(x, [y,] n) in place over x, against ref applied to a copy. */
    /** The kernels only the graph runner uses: bias rows, row gathers and scatters, the MoE weighted sum. */
    private void graphOps() {
        int rows = 5, width = 300;
        float[] x = gaussian(rows * width, 1f), bias = gaussian(width, 1f), want = x.clone();
        for (int r = 0; r < rows; r++) for (int c = 0; c < width; c++) want[r * width + c] += bias[c];
        KernelEmulator.Output o = emu.inout(x, 0);
        int id = emu.launch("add_rows_f32", (rows * width + 255) / 256, 1, 256, 1, o, emu.in(bias, 0), i(width), i(rows * width));
        check(id, "add_rows_f32 5 x 300", () -> assertClose(o.floats(), want, 0));

        int[] gatherFrom = {3, 0, 3, 4, 1, 2, 0};
        float[] src = gaussian(rows * width, 1f), gathered = new float[gatherFrom.length * width];
        for (int r = 0; r < gatherFrom.length; r++) System.arraycopy(src, gatherFrom[r] * width, gathered, r * width, width);
        KernelEmulator.Output g = emu.out(4L * gathered.length, 0);
        id = emu.launch("copy_rows_f32", gatherFrom.length, 1, 256, 1, emu.in(src, 0), emu.in(gatherFrom, 0), g, KernelEmulator.NULL, i(width));
        check(id, "copy_rows_f32 gather 7 rows of 300", () -> assertClose(g.floats(), gathered, 0));
        int[] scatterTo = {4, 1, 0, 2, 3};
        float[] scattered = new float[rows * width];
        for (int r = 0; r < rows; r++) System.arraycopy(src, r * width, scattered, scatterTo[r] * width, width);
        KernelEmulator.Output sc = emu.out(4L * scattered.length, 0);
        id = emu.launch("copy_rows_f32", rows, 1, 256, 1, emu.in(src, 0), KernelEmulator.NULL, sc, emu.in(scatterTo, 0), i(width));
        check(id, "copy_rows_f32 scatter 5 rows of 300", () -> assertClose(sc.floats(), scattered, 0));

        int tokens = 3, used = 4, dim = 700;
        float[] y = gaussian(tokens * used * dim, 1f), w = gaussian(tokens * used, 1f), sum = new float[tokens * dim];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < used; j++) {
                int p = t * used + j;
                for (int c = 0; c < dim; c++) {
                    float v = w[p] * y[p * dim + c];
                    sum[t * dim + c] = j == 0 ? v : sum[t * dim + c] + v;
                }
            }
        }
        KernelEmulator.Output m = emu.out(4L * sum.length, 0);
        id = emu.launch("moe_combine_f32", tokens, 1, 256, 1, emu.in(y, 0), emu.in(w, 0), m, i(used), i(dim));
        check(id, "moe_combine_f32 3 tokens x 4 experts x 700", () -> assertClose(m.floats(), sum, 0));
    }

    private void elementwise(String kernel, float[] x, float[] y, int n, int grid, double tol, Consumer<float[]> ref) {
        float[] want = x.clone();
        ref.accept(want);
        KernelEmulator.Output o = emu.inout(x, 4);
        int id = y == null ? emu.launch(kernel, grid, 1, 256, 1, o, i(n))
                : emu.launch(kernel, grid, 1, 256, 1, o, emu.in(y, 8), i(n));
        check(id, kernel + " n=" + n + " x+4B" + (y == null ? "" : " y+8B"), () -> assertClose(o.floats(), want, tol));
    }

    /** Relative error |got - want| / max(1e-6, |want|) at most tol everywhere (0: identical bits). */
    private static void assertClose(float[] got, float[] want, double tol) {
        for (int j = 0; j < want.length; j++) {
            boolean ok = tol == 0 ? Float.floatToRawIntBits(got[j]) == Float.floatToRawIntBits(want[j])
                    : Math.abs(got[j] - want[j]) / Math.max(1e-6, Math.abs(want[j])) <= tol;
            if (!ok) {
                throw new AssertionError(String.format(Locale.ROOT, "element %d is %s, the Java reference gives %s (%s)",
                        j, got[j], want[j], tol == 0 ? "must be bit-identical" : "relative tolerance " + tol));
            }
        }
    }

    private float[] halfConversionInputs() {
        List<Float> v = new ArrayList<>(List.of(0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE,
                Float.MIN_VALUE, 65504f, 65519.996f, 65520f, -65520f, 0x1p-14f, 0x1p-24f, 0x1p-25f, Math.nextUp(0x1p-25f),
                1.5f * 0x1p-24f, 2.5f * 0x1p-24f, 0x1p-26f, 1f + 0x1p-11f, 1f + 3 * 0x1p-11f, Math.nextDown(0x1p-14f)));
        while (v.size() < 3000) {
            float r = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(48) - 30));  // 2^-30 .. 2^17
            if (rnd.nextInt(8) == 0) r = Float.intBitsToFloat((Float.floatToRawIntBits(r) & ~0x1FFF) | 0x1000);  // a tie
            v.add(r);
        }
        float[] a = new float[v.size() + 17];  // not a multiple of the block
        for (int j = 0; j < a.length; j++) a[j] = j < v.size() ? v.get(j) : (float) rnd.nextGaussian();
        return a;
    }

    // ---- attention.cu -------------------------------------------------------------------------------

    private void attention() {
        Object[][] cases = {
            // kType, vType, nHead, nHeadKv, headDimK, headDimV, pos0, tokens, latent
            {GgmlType.F16, GgmlType.F16, 8, 2, 64, 64, 40, 3, false},
            {GgmlType.Q8_0, GgmlType.Q4_0, 4, 4, 128, 128, 70, 2, false},
            {GgmlType.BF16, GgmlType.F32, 6, 3, 96, 96, 5, 1, false},
            {GgmlType.F32, GgmlType.BF16, 2, 1, 160, 160, 100, 4, false},
            {GgmlType.Q4_0, GgmlType.Q8_0, 4, 2, 64, 64, 31, 2, false},
            {GgmlType.F16, GgmlType.F32, 4, 2, 80, 80, 10, 2, false},
            {GgmlType.F32, GgmlType.F32, 4, 1, 32, 32, 0, 1, false},
            {GgmlType.F16, GgmlType.F16, 4, 1, 576, 512, 33, 2, true},
            {GgmlType.Q8_0, GgmlType.Q8_0, 2, 1, 576, 512, 64, 1, true},
            {GgmlType.BF16, GgmlType.BF16, 2, 1, 576, 512, 20, 2, true},
        };
        for (Object[] c : cases) {
            GgmlType kt = (GgmlType) c[0], vt = (GgmlType) c[1];
            int nHead = (Integer) c[2], nHeadKv = (Integer) c[3], dK = (Integer) c[4], dV = (Integer) c[5];
            int pos0 = (Integer) c[6], tokens = (Integer) c[7];
            boolean latent = (Boolean) c[8];
            int ctx = pos0 + tokens;
            float scale = (float) (1 / Math.sqrt(dK));
            float[] q = gaussian(tokens * nHead * dK, 1f), want = new float[tokens * nHead * dV];
            byte[] keys, values;
            long kRowBytes, vRowBytes;
            try (KvCache cache = latent ? KvCache.latent(1, ctx, dK, dV, kt) : new KvCache(1, ctx, nHeadKv * dK, nHeadKv * dV, kt, vt)) {
                cache.store(0, 0, ctx, gaussian(ctx * cache.keyRowElements(), 1f),
                        latent ? null : gaussian(ctx * cache.valueRowElements(), 1f));
                AttentionKernel.reference(new AttentionKernel.Job(q, want, cache, 0, pos0, tokens, nHead, nHeadKv, dK, dV, scale));
                kRowBytes = kt.rowBytes(cache.keyRowElements());
                vRowBytes = latent ? kRowBytes : vt.rowBytes(cache.valueRowElements());
                keys = cache.keys().toArray(ValueLayout.JAVA_BYTE);
                values = latent ? null : cache.values().toArray(ValueLayout.JAVA_BYTE);
            }
            KernelEmulator.Output out = emu.out(4L * want.length, 0);
            String label = String.format(Locale.ROOT, "attention_f32 K %s V %s heads %d/%d dims %d/%d pos0 %d tokens %d%s",
                    kt.ggmlName(), vt.ggmlName(), nHead, nHeadKv, dK, dV, pos0, tokens, latent ? " (latent: V = K rows)" : "");
            int id = emu.launch("attention_f32", nHead, tokens, 128, 1, emu.in(q, 0), out, emu.in(keys, 0),
                    latent ? same(2) : emu.in(values, 0), l(kRowBytes), l(vRowBytes), i(kt.id()), i(vt.id()), i(pos0), i(tokens),
                    i(nHead), i(nHeadKv), i(dK), i(dV), f(scale));
            check(id, label, () -> {
                float[] got = out.floats();
                for (int j = 0; j < want.length; j++) {
                    if (!(Math.abs(got[j] - want[j]) <= ATT_TOL)) {
                        int t = j / (nHead * dV), h = j / dV % nHead;
                        throw new AssertionError(String.format(Locale.ROOT, "token %d head %d element %d is %s, AttentionKernel.reference gives %s (tolerance %.0e)",
                                t, h, j % dV, got[j], want[j], ATT_TOL));
                    }
                }
            });
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private float[] gaussian(int n, float sigma) {
        float[] v = new float[n];
        for (int j = 0; j < n; j++) v[j] = (float) rnd.nextGaussian() * sigma;
        return v;
    }

    private static void putHalf(byte[] b, int off, double v) {
        short h = Float.floatToFloat16((float) v);
        b[off] = (byte) h;
        b[off + 1] = (byte) (h >> 8);
    }

    /** The gpu module: under the repository root surefire passes as panllama.root, else found from the working directory. */
    private static Path gpuModule() {
        String root = System.getProperty("panllama.root");
        if (root != null && Files.isRegularFile(Path.of(root, "gpu", "KERNELS.md"))) return Path.of(root, "gpu").toAbsolutePath().normalize();
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("gpu/KERNELS.md"))) return d.resolve("gpu").normalize();
            if (Files.isRegularFile(d.resolve("KERNELS.md")) && d.getFileName().toString().equals("gpu")) return d;
        }
        throw new IllegalStateException("cannot find gpu/KERNELS.md above " + Path.of("").toAbsolutePath());
    }
}
