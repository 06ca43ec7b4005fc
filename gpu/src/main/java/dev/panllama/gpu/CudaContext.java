package dev.panllama.gpu;

import jcuda.Pointer;
import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUmemorytype;
import jcuda.driver.CUstream;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.IdentityHashMap;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpy2DAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * One CUDA device as this process uses it: the device's primary context (shared with cuBLAS, which runs
 * on the runtime API), one stream everything is queued on, the device allocations made through it
 * (freed on close), and two pinned host buffers through which every copy goes. Copies are asynchronous
 * on the stream and double-buffered: while the device reads one staging buffer the host fills the other.
 *
 * <p>Not thread-safe by itself: callers hold its monitor ({@code synchronized (ctx)}) around a sequence
 * of calls and call {@link #enter} first, which makes the context current on the calling thread.
 */
final class CudaContext implements AutoCloseable {
    /** Bytes of each of the two pinned staging buffers. */
    static final long STAGING_BYTES = 32L << 20;

    private final CUdevice device;
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final Pointer[] staging = new Pointer[2];
    private final MemorySegment[] stagingMemory = new MemorySegment[2];
    private final Map<CUdeviceptr, Long> allocations = new IdentityHashMap<>();
    private long allocatedBytes;
    private boolean closed;

    CudaContext(CUdevice device, String name) {
        this.device = device;
        CudaError.check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain(" + name + ")");
        try {
            enter();
            CudaError.check(cuStreamCreate(stream, 0), "cuStreamCreate");
            for (int i = 0; i < 2; i++) {
                staging[i] = new Pointer();
                CudaError.check(cuMemAllocHost(staging[i], STAGING_BYTES), "cuMemAllocHost(" + STAGING_BYTES + " bytes)");
                stagingMemory[i] = MemorySegment.ofBuffer(staging[i].getByteBuffer(0, STAGING_BYTES));
            }
        } catch (RuntimeException e) {
            try {
                close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    CUstream stream() { return stream; }

    /** Makes this context current on the calling thread (cheap; every entry point calls it). */
    void enter() {
        if (closed) throw new IllegalStateException("the CUDA device is closed");
        CudaError.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** Device memory, freed on close unless {@link #free}d before. */
    CUdeviceptr alloc(long bytes, String what) {
        CUdeviceptr p = new CUdeviceptr();
        int rc = cuMemAlloc(p, Math.max(bytes, 1));
        if (rc != 0) {
            long[] free = new long[1], total = new long[1];
            cuMemGetInfo(free, total);
            CudaError.check(rc, "cuMemAlloc(" + bytes + " bytes for " + what + "; " + (free[0] >> 20) + " MiB of "
                    + (total[0] >> 20) + " MiB free)");
        }
        allocations.put(p, bytes);
        allocatedBytes += bytes;
        return p;
    }

    void free(CUdeviceptr p) {
        Long bytes = allocations.remove(p);
        if (bytes == null) return;
        allocatedBytes -= bytes;
        CudaError.check(cuMemFree(p), "cuMemFree");
    }

    /** Bytes allocated through this context and not freed. */
    long allocatedBytes() { return allocatedBytes; }

    /** {free, total} bytes of the device. */
    long[] memoryInfo() {
        long[] free = new long[1], total = new long[1];
        CudaError.check(cuMemGetInfo(free, total), "cuMemGetInfo");
        return new long[]{free[0], total[0]};
    }

    void synchronize() {
        CudaError.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    /** Fills {@code bytes} of a staging buffer with the source's bytes {@code [offset, offset + bytes)}. */
    interface Source {
        void fill(MemorySegment staging, long offset, long bytes);
    }

    /**
     * Copies {@code total} bytes from {@code src} to {@code dst}, in chunks of a whole number of
     * {@code unit}s (so that a source converting rows gets whole rows). Returns after the last copy completed.
     */
    void upload(Source src, long total, long unit, CUdeviceptr dst) {
        long chunk = STAGING_BYTES / unit * unit;
        if (chunk == 0) throw new IllegalArgumentException("a unit of " + unit + " bytes exceeds the staging buffer");
        int i = 0;
        for (long done = 0; done < total; done += chunk, i++) {
            long n = Math.min(chunk, total - done);
            src.fill(stagingMemory[i & 1], done, n);
            // The copy of the previous chunk (from the other buffer) overlapped the fill above; once it is
            // done, the buffer filled next round is free again.
            synchronize();
            CudaError.check(cuMemcpyHtoDAsync(dst.withByteOffset(done), staging[i & 1], n, stream), "cuMemcpyHtoDAsync");
        }
        synchronize();
    }

    /** Copies host memory to the device. */
    void upload(MemorySegment src, CUdeviceptr dst) {
        upload((buf, off, n) -> MemorySegment.copy(src, off, buf, 0, n), src.byteSize(), 1, dst);
    }

    /** Copies {@code src[off, off + n)} to the device. */
    void upload(float[] src, int off, int n, CUdeviceptr dst) {
        upload((buf, o, bytes) -> MemorySegment.copy(src, off + (int) (o / 4), buf, ValueLayout.JAVA_FLOAT, 0, (int) (bytes / 4)),
                4L * n, 4, dst);
    }

    /** Copies {@code src[0, n)} to the device. */
    void upload(int[] src, int n, CUdeviceptr dst) {
        upload((buf, o, bytes) -> MemorySegment.copy(src, (int) (o / 4), buf, ValueLayout.JAVA_INT, 0, (int) (bytes / 4)), 4L * n, 4, dst);
    }

    /** Fills {@code bytes} bytes of host memory at {@code offset} from a staging buffer. */
    private interface Sink {
        void take(MemorySegment staging, long offset, long bytes);
    }

    /**
     * Copies {@code n} floats from the device into {@code dst[off, off + n)}, after everything queued on the
     * stream before (so a kernel's result is complete). The next chunk's copy overlaps reading this one.
     */
    void download(CUdeviceptr src, float[] dst, int off, int n) {
        download(src, 4L * n, (buf, o, bytes) -> MemorySegment.copy(buf, ValueLayout.JAVA_FLOAT, 0, dst, off + (int) (o / 4), (int) (bytes / 4)));
    }

    /** Copies {@code n} ints from the device into {@code dst[0, n)}, as {@link #download(CUdeviceptr, float[], int, int)}. */
    void download(CUdeviceptr src, int[] dst, int n) {
        download(src, 4L * n, (buf, o, bytes) -> MemorySegment.copy(buf, ValueLayout.JAVA_INT, 0, dst, (int) (o / 4), (int) (bytes / 4)));
    }

    private void download(CUdeviceptr src, long total, Sink sink) {
        long chunk = STAGING_BYTES;
        if (total == 0) {
            synchronize();
            return;
        }
        CudaError.check(cuMemcpyDtoHAsync(staging[0], src, Math.min(chunk, total), stream), "cuMemcpyDtoHAsync");
        int i = 0;
        for (long done = 0; done < total; done += chunk, i++) {
            long bytes = Math.min(chunk, total - done);
            synchronize();
            long next = done + chunk;
            if (next < total) {
                CudaError.check(cuMemcpyDtoHAsync(staging[(i + 1) & 1], src.withByteOffset(next), Math.min(chunk, total - next), stream),
                        "cuMemcpyDtoHAsync");
            }
            sink.take(stagingMemory[i & 1], done, bytes);
        }
    }

    /** Queues a device-to-device copy of {@code bytes} bytes on the stream. */
    void copyAsync(CUdeviceptr src, CUdeviceptr dst, long bytes) {
        if (bytes > 0) CudaError.check(cuMemcpyDtoDAsync(dst, src, bytes, stream), "cuMemcpyDtoDAsync");
    }

    /**
     * Queues a strided device-to-device copy: {@code rows} rows of {@code widthBytes}, consecutive source
     * rows {@code srcPitch} bytes apart, destination rows {@code dstPitch} apart (column slices and concatenations).
     */
    void copy2dAsync(CUdeviceptr src, long srcPitch, CUdeviceptr dst, long dstPitch, long widthBytes, int rows) {
        if (widthBytes <= 0 || rows <= 0) return;
        CUDA_MEMCPY2D c = new CUDA_MEMCPY2D();
        c.srcMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        c.srcDevice = src;
        c.srcPitch = srcPitch;
        c.dstMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        c.dstDevice = dst;
        c.dstPitch = dstPitch;
        c.WidthInBytes = widthBytes;
        c.Height = rows;
        CudaError.check(cuMemcpy2DAsync(c, stream), "cuMemcpy2DAsync");
    }

    /** Frees every allocation, the staging buffers and the stream, and releases the primary context. */
    @Override
    public void close() {
        if (closed) return;
        try {
            CudaError.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            for (CUdeviceptr p : allocations.keySet()) cuMemFree(p);
            allocations.clear();
            allocatedBytes = 0;
            for (int i = 0; i < 2; i++) {
                if (staging[i] != null) cuMemFreeHost(staging[i]);
                staging[i] = null;
                stagingMemory[i] = null;
            }
            cuStreamDestroy(stream);
        } finally {
            closed = true;
            cuDevicePrimaryCtxRelease(device);
        }
    }
}
