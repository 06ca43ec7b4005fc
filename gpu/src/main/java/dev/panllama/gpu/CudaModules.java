package dev.panllama.gpu;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

/**
 * The kernel modules of one device, loaded on first use: the shipped PTX through cuModuleLoadData (the
 * driver JIT-compiles it for the device), or, when the driver rejects that PTX (an ISA version newer than
 * the driver knows), the shipped .cu compiled by NVRTC for the device's compute capability.
 */
final class CudaModules implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("panllama.gpu");

    private final CudaContext ctx;
    private final int computeCapability;
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();

    CudaModules(CudaContext ctx, int computeCapability) {
        this.ctx = ctx;
        this.computeCapability = computeCapability;
    }

    /** Queues a kernel on the device's stream; {@code args} come from {@link Args}. */
    void launch(String kernel, LaunchGeometry g, Args args) {
        CudaError.check(cuLaunchKernel(function(kernel), g.gridX(), g.gridY(), g.gridZ(), g.blockX(), g.blockY(), g.blockZ(),
                0, ctx.stream(), args.pointer(), null), "cuLaunchKernel(" + kernel + ")");
    }

    CUfunction function(String kernel) {
        CUfunction f = functions.get(kernel);
        if (f != null) return f;
        f = new CUfunction();
        CudaError.check(cuModuleGetFunction(f, module(KernelSources.moduleOf(kernel)), kernel), "cuModuleGetFunction(" + kernel + ")");
        functions.put(kernel, f);
        return f;
    }

    private CUmodule module(String name) {
        CUmodule m = modules.get(name);
        if (m != null) return m;
        byte[] ptx = KernelSources.read(KernelSources.ptxResource(name));
        if (ptx == null) throw new IllegalStateException(Unavailability.missingKernels(KernelSources.ptxResource(name)));
        m = new CUmodule();
        int rc = cuModuleLoadData(m, KernelSources.nulTerminated(ptx));
        if (rc != 0 && KernelSources.nvrtcMayHelp(rc)) {
            LOG.log(System.Logger.Level.INFO, "the CUDA driver rejected " + name + ".ptx (" + jcuda.driver.CUresult.stringFor(rc)
                    + "); compiling " + name + ".cu with NVRTC for compute " + computeCapability / 10 + "." + computeCapability % 10);
            m = new CUmodule();
            CudaError.check(cuModuleLoadData(m, KernelSources.nulTerminated(compileWithNvrtc(name).getBytes(StandardCharsets.UTF_8))),
                    "cuModuleLoadData(" + name + ", NVRTC's PTX)");
        } else {
            CudaError.check(rc, "cuModuleLoadData(" + name + ".ptx)");
        }
        modules.put(name, m);
        return m;
    }

    private String compileWithNvrtc(String name) {
        byte[] cu = KernelSources.read(KernelSources.sourceResource(name));
        if (cu == null) throw new IllegalStateException("the driver rejected " + name + ".ptx and " + KernelSources.sourceResource(name) + " is missing");
        try {
            JNvrtc.setExceptionsEnabled(false);
            int[] count = new int[1];
            CudaError.checkNvrtc(JNvrtc.nvrtcGetNumSupportedArchs(count), "nvrtcGetNumSupportedArchs", null);
            int[] archs = new int[count[0]];
            CudaError.checkNvrtc(JNvrtc.nvrtcGetSupportedArchs(archs), "nvrtcGetSupportedArchs", null);
            int arch = KernelSources.nvrtcArch(computeCapability, archs);
            nvrtcProgram program = new nvrtcProgram();
            String source = new String(cu, StandardCharsets.UTF_8);
            var headers = KernelSources.headers(source);     // blocks.cuh: NVRTC has no include path, it is handed the text
            CudaError.checkNvrtc(JNvrtc.nvrtcCreateProgram(program, source, name + ".cu", headers.size(),
                            headers.values().toArray(String[]::new), headers.keySet().toArray(String[]::new)),
                    "nvrtcCreateProgram(" + name + ")", null);
            try {
                int rc = JNvrtc.nvrtcCompileProgram(program, 1, KernelSources.nvrtcOptions(arch));
                String[] log = new String[1];
                JNvrtc.nvrtcGetProgramLog(program, log);
                CudaError.checkNvrtc(rc, "nvrtcCompileProgram(" + name + ".cu, compute_" + arch + ")", log[0]);
                String[] ptx = new String[1];
                CudaError.checkNvrtc(JNvrtc.nvrtcGetPTX(program, ptx), "nvrtcGetPTX(" + name + ")", null);
                return ptx[0];
            } finally {
                JNvrtc.nvrtcDestroyProgram(program);
            }
        } catch (LinkageError e) {
            throw new IllegalStateException("the driver rejected " + name + ".ptx and NVRTC cannot be loaded ("
                    + Unavailability.nativeLibrary(e) + "): update the NVIDIA driver or install the CUDA 12 runtime libraries", e);
        }
    }

    @Override
    public void close() {
        for (CUmodule m : modules.values()) cuModuleUnload(m);
        modules.clear();
        functions.clear();
    }

    /** A kernel's arguments in order, each of the exact C type the contract gives. */
    static final class Args {
        private final List<Pointer> values = new ArrayList<>();

        Args ptr(CUdeviceptr p) {
            values.add(Pointer.to(p));
            return this;
        }

        /** {@code int} */
        Args i32(int v) {
            values.add(Pointer.to(new int[]{v}));
            return this;
        }

        /** {@code long long} */
        Args i64(long v) {
            values.add(Pointer.to(new long[]{v}));
            return this;
        }

        Args f32(float v) {
            values.add(Pointer.to(new float[]{v}));
            return this;
        }

        Pointer pointer() {
            return Pointer.to(values.toArray(new Pointer[0]));
        }
    }
}
