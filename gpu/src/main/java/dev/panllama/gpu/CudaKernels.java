package dev.panllama.gpu;

import dev.panllama.backend.AttentionKernel;
import dev.panllama.backend.Kernels;
import dev.panllama.kv.KvCache;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import jcuda.driver.CUdeviceptr;

import java.util.IdentityHashMap;
import java.util.Map;

import static dev.panllama.gpu.DeviceScratch.Slot.IN_A;
import static dev.panllama.gpu.DeviceScratch.Slot.IN_B;
import static dev.panllama.gpu.DeviceScratch.Slot.OUT;
import static dev.panllama.gpu.DeviceScratch.Slot.W16;
import static dev.panllama.gpu.DeviceScratch.Slot.X16;

/**
 * The {@link Kernels} SPI on one CUDA device, with the PTX kernels of gpu/KERNELS.md and cuBLAS.
 *
 * <p>These per-op methods hand over activations as host {@code float[]}s and take results back the same
 * way (every op uploads its inputs, launches, downloads and waits): they serve the kernel tests and
 * callers outside a model. A model's forward pass runs on {@link CudaRunner}, which keeps activations in
 * device memory between ops and shares the device-level helpers below ({@link #matmul(CudaDevice.State,
 * Tensor, long, int, CUdeviceptr, CUdeviceptr, int)}, {@link #launchAttention}).
 * Weights stay on the device (uploaded by {@link CudaDevice#place}), as do norm weights (cached by array
 * identity) and the KV cache ({@link KvMirrors}).
 *
 * <p>matmul: up to {@value #MATVEC_MAX_TOKENS} tokens run the {@code mv_<type>} kernel (float activations);
 * larger batches run cuBLAS ({@code cublasGemmEx}, float accumulation): F16 weights as they are, F32
 * weights as F32, other types dequantized to F16 in blocks of rows ({@code dq_<type>_f16}) into a reusable
 * scratch, with the activations converted to F16 ({@code f32_to_f16}).
 */
final class CudaKernels implements Kernels {
    static final int MATVEC_MAX_TOKENS = 8;
    /** Largest F16 copy of a weight made at once for cuBLAS; bigger weights go in blocks of rows. */
    static final long DEQUANT_SCRATCH_BYTES = 256L << 20;
    /** The attention kernel's limit on head sizes (gpu/KERNELS.md). */
    static final int MAX_HEAD_DIM = 576;

    private final CudaDevice device;
    private final Map<float[], CUdeviceptr> smallWeights = new IdentityHashMap<>();

    CudaKernels(CudaDevice device) {
        this.device = device;
    }

    @Override
    public String description() {
        return device.name() + " (" + device.description() + "; PTX kernels through jcuda, cuBLAS for batches over "
                + MATVEC_MAX_TOKENS + " tokens)";
    }

    @Override
    public int threads() {
        return 1;
    }

    @Override
    public void matmul(Tensor w, long rowStart, int rowCount, float[] x, float[] y, int tokens) {
        if (rowCount <= 0 || tokens <= 0) return;
        synchronized (device) {
            CudaDevice.State s = device.enter();
            int k = s.weights().get(w).k();
            int xn = Math.multiplyExact(tokens, k);
            int yn = Math.multiplyExact(tokens, rowCount);
            CUdeviceptr xd = s.scratch().get(IN_A, 4L * xn);
            CUdeviceptr yd = s.scratch().get(OUT, 4L * yn);
            s.ctx().upload(x, 0, xn, xd);
            matmul(s, w, rowStart, rowCount, xd, yd, tokens);
            s.ctx().download(yd, y, 0, yn);
        }
    }

    /**
     * Rows {@code [rowStart, rowStart + rowCount)} of the placed weight times {@code tokens} vectors of
     * device memory {@code x} into {@code y}, queued on the stream: the matvec kernel for a few tokens,
     * cuBLAS beyond. Uses the X16 and W16 scratch buffers; the caller has entered the context.
     */
    static void matmul(CudaDevice.State s, Tensor w, long rowStart, int rowCount, CUdeviceptr x, CUdeviceptr y, int tokens) {
        matmul(s, s.weights().get(w), w.name(), rowStart, rowCount, x, y, tokens);
    }

    /** As above, for a weight already on the device as {@code p} (placed, or streamed by op offload). */
    static void matmul(CudaDevice.State s, CudaWeights.Placed p, String name, long rowStart, int rowCount, CUdeviceptr x, CUdeviceptr y,
                       int tokens) {
        if (rowCount <= 0 || tokens <= 0) return;
        if (rowStart < 0 || rowStart + rowCount > p.rows()) {
            throw new IndexOutOfBoundsException("rows [" + rowStart + ", " + (rowStart + rowCount) + ") of " + name + " with " + p.rows() + " rows");
        }
        int k = p.k();
        int xn = Math.multiplyExact(tokens, k);
        CUdeviceptr wp = p.ptr().withByteOffset(rowStart * p.rowBytes());
        CublasGemm gemm = tokens > MATVEC_MAX_TOKENS ? s.gemm() : null;
        if (gemm == null) {
            s.modules().launch(KernelTypes.matvec(p.type()), LaunchGeometry.matvec(rowCount), new CudaModules.Args()
                    .ptr(wp).i64(p.rowBytes()).ptr(x).ptr(y).i32(k).i32(rowCount).i32(tokens));
        } else if (p.type() == GgmlType.F32) {
            gemm.gemm(GemmShape.of(rowCount, k, tokens), wp, x, y, true);
        } else {
            CUdeviceptr x16 = s.scratch().get(X16, 2L * xn);
            s.modules().launch("f32_to_f16", LaunchGeometry.elementwise(xn), new CudaModules.Args().ptr(x).ptr(x16).i32(xn));
            if (p.type() == GgmlType.F16) {
                gemm.gemm(GemmShape.of(rowCount, k, tokens), wp, x16, y, false);
            } else {
                for (GemmShape.RowBlock b : GemmShape.rowBlocks(rowCount, k, DEQUANT_SCRATCH_BYTES)) {
                    CUdeviceptr w16 = s.scratch().get(W16, 2L * b.rows() * k);
                    s.modules().launch(KernelTypes.dequant(p.type()), LaunchGeometry.dequant(b.rows()), new CudaModules.Args()
                            .ptr(wp.withByteOffset(b.first() * p.rowBytes())).i64(p.rowBytes()).ptr(w16).i32(k).i32(b.rows()));
                    gemm.gemm(GemmShape.block(b.first(), b.rows(), rowCount, k, tokens), w16, x16, y, false);
                }
            }
        }
    }

    @Override
    public void rmsnorm(float[] x, float[] weight, float[] out, int tokens, int dim, float eps) {
        int n = tokens * dim;
        if (n <= 0) return;
        synchronized (device) {
            CudaDevice.State s = device.enter();
            CUdeviceptr a = s.scratch().get(IN_A, 4L * n);
            s.ctx().upload(x, 0, n, a);
            CUdeviceptr w = smallWeight(s, weight, dim);
            s.modules().launch("rmsnorm_f32", LaunchGeometry.perRow(tokens), new CudaModules.Args().ptr(a).ptr(w).ptr(a).i32(dim).f32(eps));
            s.ctx().download(a, out, 0, n);
        }
    }

    @Override
    public void rope(float[] x, int tokens, int heads, int headDim, int nRot, float[] cosSin, boolean neox) {
        int n = tokens * heads * headDim;
        if (n <= 0 || nRot <= 0) return;
        synchronized (device) {
            CudaDevice.State s = device.enter();
            CUdeviceptr a = s.scratch().get(IN_A, 4L * n);
            CUdeviceptr cs = s.scratch().get(IN_B, 4L * tokens * nRot);
            s.ctx().upload(x, 0, n, a);
            s.ctx().upload(cosSin, 0, tokens * nRot, cs);
            s.modules().launch("rope_f32", LaunchGeometry.rope(tokens, heads), new CudaModules.Args()
                    .ptr(a).ptr(cs).i32(heads).i32(headDim).i32(nRot).i32(neox ? 1 : 0));
            s.ctx().download(a, x, 0, n);
        }
    }

    @Override
    public void swiglu(float[] gate, float[] up, int n) {
        binary("swiglu_f32", gate, up, n);
    }

    @Override
    public void add(float[] x, float[] y, int n) {
        binary("add_f32", x, y, n);
    }

    @Override
    public void attention(AttentionKernel.Job j) {
        KvCache c = j.cache();
        checkAttention(c, j.headDimK(), j.headDimV());
        int qn = j.tokens() * j.nHead() * j.headDimK();
        int on = j.tokens() * j.nHead() * j.headDimV();
        if (qn <= 0) return;
        synchronized (device) {
            CudaDevice.State s = device.enter();
            KvMirrors.Layer kv = s.kv().sync(c, j.layer(), j.pos0(), j.tokens());
            CUdeviceptr q = s.scratch().get(IN_A, 4L * qn);
            CUdeviceptr out = s.scratch().get(OUT, 4L * on);
            s.ctx().upload(j.q(), 0, qn, q);
            launchAttention(s, kv, c, q, out, j.pos0(), j.tokens(), j.nHead(), j.nHeadKv(), j.headDimK(), j.headDimV(), j.scale());
            s.ctx().download(out, j.out(), 0, on);
        }
    }

    /** Fails, saying why, for a cache type or head size the attention kernel does not take. */
    static void checkAttention(KvCache c, int headDimK, int headDimV) {
        if (!KvCache.TYPES.contains(c.keyType()) || !KvCache.TYPES.contains(c.valueType())) {   // attention_f32 reads them all
            throw new UnsupportedOperationException("CUDA attention reads KV caches of f32, f16, bf16, q8_0 or q4_0, not "
                    + c.keyType() + "/" + c.valueType());
        }
        if (headDimK > MAX_HEAD_DIM || headDimV > MAX_HEAD_DIM) {
            throw new UnsupportedOperationException("CUDA attention takes heads of up to " + MAX_HEAD_DIM + " values, not "
                    + headDimK + "/" + headDimV);
        }
    }

    /** Queues attention of {@code tokens} queries at {@code q} (device memory) over the layer's device rows into {@code out}. */
    static void launchAttention(CudaDevice.State s, KvMirrors.Layer kv, KvCache c, CUdeviceptr q, CUdeviceptr out, int pos0, int tokens,
                                int nHead, int nHeadKv, int headDimK, int headDimV, float scale) {
        for (LaunchGeometry.Chunk ch : LaunchGeometry.attentionChunks(tokens)) {
            long t0 = ch.first();
            s.modules().launch("attention_f32", LaunchGeometry.attention(nHead, ch.count()), new CudaModules.Args()
                    .ptr(q.withByteOffset(4 * t0 * nHead * headDimK))
                    .ptr(out.withByteOffset(4 * t0 * nHead * headDimV))
                    .ptr(kv.k()).ptr(kv.v())
                    .i64(KvMirrors.rowBytesK(c)).i64(KvMirrors.rowBytesV(c))
                    .i32(c.keyType().id()).i32(c.valueType().id())
                    .i32(pos0 + ch.first()).i32(ch.count())
                    .i32(nHead).i32(nHeadKv).i32(headDimK).i32(headDimV)
                    .f32(scale));
        }
    }

    /** {@code x = op(x, y)} element-wise, for the kernels of signature {@code (float* x, const float* y, int n)}. */
    private void binary(String kernel, float[] x, float[] y, int n) {
        if (n <= 0) return;
        synchronized (device) {
            CudaDevice.State s = device.enter();
            CUdeviceptr a = s.scratch().get(IN_A, 4L * n);
            CUdeviceptr b = s.scratch().get(IN_B, 4L * n);
            s.ctx().upload(x, 0, n, a);
            s.ctx().upload(y, 0, n, b);
            s.modules().launch(kernel, LaunchGeometry.elementwise(n), new CudaModules.Args().ptr(a).ptr(b).i32(n));
            s.ctx().download(a, x, 0, n);
        }
    }

    /** A norm weight's device copy, uploaded on first use and kept (they live as long as the model). */
    CUdeviceptr smallWeight(CudaDevice.State s, float[] w, int n) {
        CUdeviceptr d = smallWeights.get(w);
        if (d == null) {
            d = s.ctx().alloc(4L * w.length, "norm weight");
            s.ctx().upload(w, 0, w.length, d);
            smallWeights.put(w, d);
        }
        if (w.length < n) throw new IllegalArgumentException("a norm weight of " + w.length + " values for rows of " + n);
        return d;
    }

    /** Forgets the cached norm weights (their memory goes with the device context). */
    void forgetSmallWeights() {
        smallWeights.clear();
    }
}
