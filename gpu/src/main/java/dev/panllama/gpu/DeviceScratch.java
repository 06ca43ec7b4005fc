package dev.panllama.gpu;

import jcuda.driver.CUdeviceptr;

import java.util.EnumMap;
import java.util.Map;

/**
 * Device buffers reused by every op: activations in and out, their F16 copy, a dequantized weight
 * block for cuBLAS, and the gathers of per-head and per-expert matmuls. Each grows (to the next power of two, at least 1 MiB) and never shrinks.
 */
final class DeviceScratch {
    /**
     * IN_A, IN_B, OUT: an op's operands (per-op API; the graph runner's expert matmuls gather into IN_A/OUT);
     * X16, W16: F16 copies for cuBLAS; GATHER_X, GATHER_Y: one head's rows of a per-head matmul;
     * ROWS_A, ROWS_B: row indices of a gather and a scatter; STREAM: a host weight streamed by op offload.
     */
    enum Slot { IN_A, IN_B, OUT, X16, W16, GATHER_X, GATHER_Y, ROWS_A, ROWS_B, STREAM }

    private record Buffer(CUdeviceptr ptr, long bytes) {}

    private final CudaContext ctx;
    private final Map<Slot, Buffer> buffers = new EnumMap<>(Slot.class);

    DeviceScratch(CudaContext ctx) {
        this.ctx = ctx;
    }

    /** A buffer of at least {@code bytes}; its previous contents are lost when it grows. */
    CUdeviceptr get(Slot slot, long bytes) {
        Buffer b = buffers.get(slot);
        if (b != null && b.bytes() >= bytes) return b.ptr();
        if (b != null) ctx.free(b.ptr());
        long size = Math.max(1L << 20, Long.highestOneBit(Math.max(1, bytes - 1)) << 1);
        b = new Buffer(ctx.alloc(size, "scratch " + slot), size);
        buffers.put(slot, b);
        return b.ptr();
    }

    void clear() {
        for (Buffer b : buffers.values()) ctx.free(b.ptr());
        buffers.clear();
    }
}
