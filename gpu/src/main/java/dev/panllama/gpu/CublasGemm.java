package dev.panllama.gpu;

import jcuda.Pointer;
import jcuda.cudaDataType;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
import jcuda.jcublas.cublasHandle;
import jcuda.runtime.cudaStream_t;

/**
 * cuBLAS on the device's stream, for prompt batches: {@code cublasGemmEx} with float accumulation
 * ({@code CUBLAS_COMPUTE_32F}) and float output, inputs F16 (weights dequantized, activations converted)
 * or F32 (F32 weights, multiplied as they are). The arguments come from {@link GemmShape}.
 *
 * <p>cuBLAS is a library of the CUDA toolkit ({@code libcublas.so.12}), not of the driver: where it is
 * missing, {@link #open} says why and the kernels run every batch through the matvec kernels instead.
 */
final class CublasGemm implements AutoCloseable {
    private final cublasHandle handle;
    private final Pointer one = Pointer.to(new float[]{1f});
    private final Pointer zero = Pointer.to(new float[]{0f});

    private CublasGemm(cublasHandle handle) {
        this.handle = handle;
    }

    /** cuBLAS on the current context's stream; throws a LinkageError when its library cannot be loaded. */
    static CublasGemm open(CudaContext ctx) {
        JCublas2.setExceptionsEnabled(false);
        cublasHandle h = new cublasHandle();
        CudaError.checkCublas(JCublas2.cublasCreate(h), "cublasCreate");
        try {
            CudaError.checkCublas(JCublas2.cublasSetStream(h, new cudaStream_t(ctx.stream())), "cublasSetStream");
        } catch (RuntimeException e) {
            JCublas2.cublasDestroy(h);
            throw e;
        }
        return new CublasGemm(h);
    }

    /** C = op(A)·op(B) with A and B of {@code inputType} (F16 or F32), C float; C's pointer is y's start (cOffset applied here). */
    void gemm(GemmShape s, CUdeviceptr a, CUdeviceptr b, CUdeviceptr y, boolean f32Inputs) {
        int type = f32Inputs ? cudaDataType.CUDA_R_32F : cudaDataType.CUDA_R_16F;
        CudaError.checkCublas(JCublas2.cublasGemmEx(handle, s.transa(), s.transb(), s.m(), s.n(), s.k(),
                one, a, type, s.lda(), b, type, s.ldb(),
                zero, y.withByteOffset(4 * s.cOffset()), cudaDataType.CUDA_R_32F, s.ldc(),
                cublasComputeType.CUBLAS_COMPUTE_32F, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT), "cublasGemmEx " + s);
    }

    @Override
    public void close() {
        JCublas2.cublasDestroy(handle);
    }
}
