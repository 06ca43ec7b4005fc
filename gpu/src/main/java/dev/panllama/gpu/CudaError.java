package dev.panllama.gpu;

import jcuda.driver.CUresult;
import jcuda.jcublas.cublasStatus;
import jcuda.nvrtc.nvrtcResult;

/**
 * A failed CUDA call, naming the call and its result. jcuda's own exceptions stay off (they would carry
 * only the result's name); every call's status is checked here instead.
 */
final class CudaError extends RuntimeException {
    private final int code;

    private CudaError(String message, int code) {
        super(message);
        this.code = code;
    }

    /** The CUresult (or cublasStatus / nvrtcResult) value. */
    int code() { return code; }

    /** Throws unless a driver call succeeded. */
    static void check(int cuResult, String call) {
        if (cuResult != CUresult.CUDA_SUCCESS) throw new CudaError(call + ": " + CUresult.stringFor(cuResult), cuResult);
    }

    static void checkCublas(int status, String call) {
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) throw new CudaError(call + ": " + cublasStatus.stringFor(status), status);
    }

    static void checkNvrtc(int result, String call, String log) {
        if (result != nvrtcResult.NVRTC_SUCCESS) {
            throw new CudaError(call + ": " + nvrtcResult.stringFor(result) + (log == null || log.isBlank() ? "" : "\n" + log), result);
        }
    }
}
