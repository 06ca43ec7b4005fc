package dev.panllama.gpu;

import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import jcuda.driver.CUdeviceptr;

import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The weights placed on one device, by tensor identity: {@link dev.panllama.backend.Device#place} uploads a
 * tensor's bytes once and returns the same Tensor object, which later matmuls look up here. Types the
 * kernels read ({@link KernelTypes#NATIVE}) go byte for byte; the others are decoded by the host codecs
 * and stored as F16, logged once per type.
 */
final class CudaWeights {
    private static final System.Logger LOG = System.getLogger("panllama.gpu");

    /** A weight on the device: rows of {@code rowBytes} in {@code type}, row r at {@code ptr + r * rowBytes}. */
    record Placed(CUdeviceptr ptr, GgmlType type, long rowBytes, int k, long rows, long bytes) {}

    private final CudaContext ctx;
    private final String deviceName;
    private final Map<Tensor, Placed> placed = new IdentityHashMap<>();
    private final Set<GgmlType> convertedTypes = EnumSet.noneOf(GgmlType.class);

    CudaWeights(CudaContext ctx, String deviceName) {
        this.ctx = ctx;
        this.deviceName = deviceName;
    }

    /** Uploads {@code w} unless it is already here; the caller has entered the context. */
    Placed place(Tensor w) {
        Placed p = placed.get(w);
        if (p != null) return p;
        GgmlType stored = KernelTypes.storedType(w.type());
        int k = Math.toIntExact(w.rowLength());
        if (stored == w.type()) {
            CUdeviceptr ptr = ctx.alloc(w.byteSize(), w.name());
            ctx.upload(w.data(), ptr);
            p = new Placed(ptr, stored, w.rowBytes(), k, w.rows(), w.byteSize());
        } else {
            if (convertedTypes.add(w.type())) {
                LOG.log(System.Logger.Level.INFO, deviceName + ": no CUDA kernel for " + w.type() + " weights; they are converted to F16 as they load ("
                        + String.format("%.1f", 16.0 / w.type().bitsPerWeight(w.rowLength())) + "x their size on the device)");
            }
            F16Rows rows = new F16Rows(w);
            CUdeviceptr ptr = ctx.alloc(rows.byteSize(), w.name() + " (as F16)");
            ctx.upload((buf, off, n) -> rows.convert(off / rows.rowBytes(), n / rows.rowBytes(), buf, 0), rows.byteSize(), rows.rowBytes(), ptr);
            p = new Placed(ptr, stored, rows.rowBytes(), k, w.rows(), rows.byteSize());
        }
        placed.put(w, p);
        return p;
    }

    /** The device copy of {@code w}, or null when it was never placed here (op offload streams such weights). */
    Placed find(Tensor w) {
        return placed.get(w);
    }

    /** The device copy of {@code w}; fails naming it when it was never placed here. */
    Placed get(Tensor w) {
        Placed p = placed.get(w);
        if (p == null) {
            throw new IllegalStateException("weight " + w.name() + " (" + w.type() + ") was never placed on " + deviceName
                    + ": its matmul cannot run there (Device.place uploads weights at load)");
        }
        return p;
    }

    /** Bytes of weights on the device. */
    long bytes() {
        long n = 0;
        for (Placed p : placed.values()) n += p.bytes();
        return n;
    }

    /** Frees every weight. */
    void clear() {
        for (Placed p : placed.values()) ctx.free(p.ptr());
        placed.clear();
    }
}
