package dev.panllama.gpu;

import dev.panllama.backend.Device;
import dev.panllama.backend.DeviceRunner;
import dev.panllama.graph.Op;
import dev.panllama.backend.Kernels;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;

/**
 * {@code CUDA<i>}: one NVIDIA GPU. Finding it only reads its name, memory and compute capability; its
 * context, stream and staging memory are set up when it is first used (a weight placed, memoryFree asked),
 * so that {@code --list-devices} and models that do not offload cost nothing on the GPU. Closing frees
 * every device allocation and releases the context.
 */
public final class CudaDevice implements Device {
    private static final System.Logger LOG = System.getLogger("panllama.gpu");

    /** What a device in use holds; all of it is freed on close. */
    record State(CudaContext ctx, CudaModules modules, CudaWeights weights, KvMirrors kv, DeviceScratch scratch, Cublas cublas) {
        /** cuBLAS, or null when its library cannot be loaded here (then every batch runs the matvec kernels). */
        CublasGemm gemm() {
            return cublas.get(ctx);
        }
    }

    /** cuBLAS opened on first need; a failure to load it is logged once and remembered. */
    static final class Cublas {
        private CublasGemm gemm;
        private boolean failed;

        CublasGemm get(CudaContext ctx) {
            if (gemm == null && !failed) {
                try {
                    gemm = CublasGemm.open(ctx);
                } catch (LinkageError | RuntimeException e) {
                    failed = true;
                    String why = e instanceof LinkageError ? Unavailability.nativeLibrary(e) : e.getMessage();
                    LOG.log(System.Logger.Level.WARNING, "cuBLAS is unavailable (" + why + "): prompt batches run the matvec kernels");
                }
            }
            return gemm;
        }

        void close() {
            if (gemm != null) gemm.close();
            gemm = null;
        }
    }

    private final CUdevice device = new CUdevice();
    private final String name;
    private final String description;
    private final long totalMemory;
    private final int computeCapability;
    private final CudaKernels kernels = new CudaKernels(this);
    private State state;
    private boolean closed;

    CudaDevice(int ordinal) {
        this.name = "CUDA" + ordinal;
        CudaError.check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        byte[] raw = new byte[256];
        CudaError.check(cuDeviceGetName(raw, raw.length, device), "cuDeviceGetName");
        int len = 0;
        while (len < raw.length && raw[len] != 0) len++;
        long[] mem = new long[1];
        CudaError.check(cuDeviceTotalMem(mem, device), "cuDeviceTotalMem");
        int[] major = new int[1], minor = new int[1];
        CudaError.check(cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device), "cuDeviceGetAttribute");
        CudaError.check(cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device), "cuDeviceGetAttribute");
        this.totalMemory = mem[0];
        this.computeCapability = major[0] * 10 + minor[0];
        this.description = describe(new String(raw, 0, len, StandardCharsets.UTF_8), totalMemory, major[0], minor[0]);
    }

    /** {@code NVIDIA <name>, <memory> GiB, compute <major>.<minor>}. */
    static String describe(String deviceName, long totalBytes, int major, int minor) {
        String n = deviceName.strip();
        if (!n.regionMatches(true, 0, "NVIDIA", 0, 6)) n = "NVIDIA " + n;
        return String.format(Locale.ROOT, "%s, %.1f GiB, compute %d.%d", n, totalBytes / (double) (1L << 30), major, minor);
    }

    @Override
    public String name() { return name; }

    @Override
    public String description() { return description; }

    @Override
    public boolean isHost() { return false; }

    @Override
    public Kernels kernels() { return kernels; }

    /** Graph splits on this GPU run with their activations in device memory. */
    @Override
    public DeviceRunner newRunner() { return new CudaRunner(this); }

    /** F16 and F32 caches live in device memory only: the graph's KV store writes them with a kernel. */
    @Override
    public boolean keepsKvCache(GgmlType keyType, GgmlType valueType) {
        return CudaRunner.encodable(keyType) && CudaRunner.encodable(valueType);
    }

    /** llama.cpp's GGML_OP_OFFLOAD_MIN_BATCH default: smaller batches compute faster where the weight is. */
    static final int OP_OFFLOAD_MIN_BATCH = 32;

    /**
     * Batches of at least {@value #OP_OFFLOAD_MIN_BATCH} tokens run the matmuls (dense and mul_mat_id) of host
     * weights here, streaming the weight, when its type has CUDA kernels.
     */
    @Override
    public boolean offloadsOp(Op op) {
        return switch (op) {
            case Op.MatMulExperts e -> e.tokens() >= OP_OFFLOAD_MIN_BATCH && CudaRunner.streamable(e.w().type());
            case Op.MatMul m -> m.tokens() >= OP_OFFLOAD_MIN_BATCH && CudaRunner.streamable(m.w().type());
            default -> false;
        };
    }

    CudaKernels cudaKernels() { return kernels; }

    /** Whether the device is in use and not closed (its allocations can still be freed one by one). */
    boolean isOpen() { return !closed && state != null; }

    @Override
    public long memoryTotal() { return totalMemory; }

    @Override
    public synchronized long memoryFree() {
        return enter().ctx().memoryInfo()[0];
    }

    /** Uploads the weight (once) and returns it: later matmuls find its device copy by identity. */
    @Override
    public synchronized Tensor place(Tensor weight) {
        enter().weights().place(weight);
        return weight;
    }

    /** Bytes of weights placed here. */
    public synchronized long weightBytes() {
        return state == null ? 0 : state.weights().bytes();
    }

    /** The device's state with its context current on this thread; the caller holds this device's monitor. */
    State enter() {
        if (closed) throw new IllegalStateException(name + " is closed");
        if (state == null) {
            CudaContext ctx = new CudaContext(device, name);
            state = new State(ctx, new CudaModules(ctx, computeCapability), new CudaWeights(ctx, name), new KvMirrors(ctx),
                    new DeviceScratch(ctx), new Cublas());
            LOG.log(System.Logger.Level.DEBUG, name + ": context created (" + description + ")");
        }
        state.ctx().enter();
        return state;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (state == null) return;
        try {
            state.ctx().enter();
            state.cublas().close();
            state.modules().close();
            state.kv().clear();
            state.weights().clear();
            state.scratch().clear();
            kernels.forgetSmallWeights();
        } finally {
            state.ctx().close();
            state = null;
        }
    }
}
