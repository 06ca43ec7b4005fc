package dev.panllama.gpu;

import dev.panllama.backend.Buffer;
import dev.panllama.backend.Device;
import dev.panllama.backend.DeviceRunner;
import dev.panllama.backend.ExpertPairs;
import dev.panllama.backend.HostBuffer;
import dev.panllama.graph.KvSpan;
import dev.panllama.graph.Node;
import dev.panllama.graph.Op;
import dev.panllama.graph.Slot;
import dev.panllama.kv.KvCache;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import jcuda.driver.CUdeviceptr;

import java.util.Arrays;

import static dev.panllama.gpu.DeviceScratch.Slot.GATHER_X;
import static dev.panllama.gpu.DeviceScratch.Slot.GATHER_Y;
import static dev.panllama.gpu.DeviceScratch.Slot.IN_A;
import static dev.panllama.gpu.DeviceScratch.Slot.OUT;
import static dev.panllama.gpu.DeviceScratch.Slot.ROWS_A;
import static dev.panllama.gpu.DeviceScratch.Slot.ROWS_B;
import static dev.panllama.gpu.DeviceScratch.Slot.STREAM;

/**
 * Runs graph splits on one CUDA device with the activations in device memory: every op is kernel
 * launches and device-to-device copies queued on the device's stream, reading and writing
 * {@link CudaBuffer}s, so a split never returns to the host between ops. The host waits only where it
 * must read: a copy into host memory, and these steps, which need values on the host today:
 * <ul>
 *   <li>routing ({@link Op.Route}): the router's logits come down, top-k runs in Java, the chosen ids
 *   and weights go up (ids are also kept on the host for the expert matmuls);</li>
 *   <li>a KV cache of a type with no device quantizer (q8_0, q4_0, bf16): the batch's keys and values
 *   come down and are stored on the host, whose rows attention then uploads. F16 and F32 caches are
 *   stored by a kernel straight into the layer's device cache;</li>
 *   <li>an embedding table placed on the GPU (the default keeps it on the CPU): rows are decoded on the host.</li>
 * </ul>
 * Expert matmuls (mul_mat_id) group the pairs by expert on the host from the ids, gather their inputs
 * in one launch, run one matmul per chosen expert over its contiguous rows, and scatter the results
 * back in one launch.
 *
 * <p>Op offload ({@link CudaDevice#offloadsOp}): a matmul of a weight left in host memory (e.g. by
 * {@code -ot exps=CPU}) over a batch of at least {@value CudaDevice#OP_OFFLOAD_MIN_BATCH} tokens runs here
 * with the weight streamed over PCIe, for mul_mat_id only the chosen experts' rows.
 */
final class CudaRunner implements DeviceRunner {
    private final CudaDevice device;

    CudaRunner(CudaDevice device) {
        this.device = device;
    }

    /** Activations on the device; an int buffer remembers the ids it last received from the host. */
    static final class CudaBuffer implements Buffer {
        final CudaDevice device;
        final CUdeviceptr ptr;
        final int capacity;
        final boolean ints;
        int[] hostIds;      // the ids this buffer holds, when the host knows them (routing, uploads)

        CudaBuffer(CudaDevice device, CUdeviceptr ptr, int capacity, boolean ints) {
            this.device = device;
            this.ptr = ptr;
            this.capacity = capacity;
            this.ints = ints;
        }

        @Override
        public Device device() { return device; }

        @Override
        public int capacity() { return capacity; }
    }

    @Override
    public Buffer allocate(Slot slot, int capacity, boolean ints) {
        synchronized (device) {
            CudaDevice.State s = device.enter();
            return new CudaBuffer(device, s.ctx().alloc(4L * Math.max(1, capacity), "activations " + slot), capacity, ints);
        }
    }

    @Override
    public void release(Buffer b) {
        synchronized (device) {
            if (device.isOpen()) device.enter().ctx().free(((CudaBuffer) b).ptr);
        }
    }

    @Override
    public void copy(Buffer src, Buffer dst, int length) {
        synchronized (device) {
            CudaContext ctx = device.enter().ctx();
            if (src instanceof HostBuffer h && dst instanceof CudaBuffer d) {
                if (h.ints() != null) {
                    ctx.upload(h.ints(), length, d.ptr);
                    d.hostIds = Arrays.copyOf(h.ints(), length);
                } else {
                    ctx.upload(h.floats(), 0, length, d.ptr);
                }
            } else if (src instanceof CudaBuffer s && dst instanceof HostBuffer h) {
                if (h.ints() != null) ctx.download(s.ptr, h.ints(), length);
                else ctx.download(s.ptr, h.floats(), 0, length);
            } else if (src instanceof CudaBuffer s && dst instanceof CudaBuffer d && s.device == d.device) {
                ctx.copyAsync(s.ptr, d.ptr, 4L * length);
                d.hostIds = s.hostIds;
            } else {
                throw new IllegalStateException(device.name() + " cannot copy from " + src.device().name() + " to " + dst.device().name());
            }
        }
    }

    @Override
    public void synchronize() {
        synchronized (device) {
            device.enter().ctx().synchronize();
        }
    }

    private CudaBuffer own(Buffer b) {
        if (!(b instanceof CudaBuffer c) || c.device != device) {
            throw new IllegalStateException(device.name() + " was given a buffer of " + b.device().name() + " without a copy");
        }
        return c;
    }

    private CUdeviceptr p(Buffer b) {
        return own(b).ptr;
    }

    @Override
    public void run(Node node, Buffer[] in, Buffer[] out) {
        synchronized (device) {
            CudaDevice.State s = device.enter();
            CudaModules m = s.modules();
            CudaContext ctx = s.ctx();
            switch (node.op()) {
                case Op.Embed e -> {
                    float[] rows = new float[node.output(0).length()];
                    e.decode(rows);
                    ctx.upload(rows, 0, rows.length, p(out[0]));
                }
                case Op.RmsNorm r -> m.launch("rmsnorm_f32", LaunchGeometry.perRow(r.rows()), new CudaModules.Args()
                        .ptr(p(in[0])).ptr(device.cudaKernels().smallWeight(s, r.weight(), r.dim())).ptr(p(out[0])).i32(r.dim()).f32(r.eps()));
                case Op.MatMul mm -> {
                    int rows = Math.toIntExact(mm.w().rows());
                    CudaWeights.Placed w = s.weights().find(mm.w());
                    if (w == null) w = stream(s, mm.w(), 0, rows);
                    CudaKernels.matmul(s, w, mm.w().name(), 0, rows, p(in[0]), p(out[0]), mm.tokens());
                }
                case Op.MatMulHeads h -> matmulHeads(s, h, p(in[0]), p(out[0]));
                case Op.AddBias a -> {
                    int n = node.output(0).length();
                    m.launch("add_rows_f32", LaunchGeometry.elementwise(n), new CudaModules.Args().ptr(p(out[0]))
                            .ptr(device.cudaKernels().smallWeight(s, a.bias(), a.bias().length)).i32(a.bias().length).i32(n));
                }
                case Op.Rope r -> m.launch("rope_f32", LaunchGeometry.rope(r.tokens(), r.heads()), new CudaModules.Args()
                        .ptr(p(out[0])).ptr(p(in[1])).i32(r.heads()).i32(r.headDim()).i32(r.nRot()).i32(r.neox() ? 1 : 0));
                case Op.SwiGlu g -> m.launch("swiglu_f32", LaunchGeometry.elementwise(g.n()),
                        new CudaModules.Args().ptr(p(out[0])).ptr(p(in[1])).i32(g.n()));
                case Op.Add a -> {
                    Buffer other = out[0] == in[0] ? in[1] : in[0];
                    m.launch("add_f32", LaunchGeometry.elementwise(a.n()), new CudaModules.Args().ptr(p(out[0])).ptr(p(other)).i32(a.n()));
                }
                case Op.SliceCols c -> ctx.copy2dAsync(p(in[0]).withByteOffset(4L * c.off()), 4L * c.stride(), p(out[0]), 4L * c.len(),
                        4L * c.len(), c.rows());
                case Op.ConcatCols c -> {
                    long w = 4L * (c.la() + c.lb());
                    ctx.copy2dAsync(p(in[0]), 4L * c.la(), p(out[0]), w, 4L * c.la(), c.rows());
                    ctx.copy2dAsync(p(in[1]), 4L * c.lb(), p(out[0]).withByteOffset(4L * c.la()), w, 4L * c.lb(), c.rows());
                }
                case Op.KvStore k -> storeKv(s, k, in);
                case Op.Attention a -> attention(s, a, p(in[0]), p(out[0]));
                case Op.Route r -> {
                    int rows = r.tokens() * r.experts();
                    float[] logits = new float[rows];
                    ctx.download(p(in[0]), logits, 0, rows);
                    int[] ids = new int[r.tokens() * r.used()];
                    float[] weights = new float[ids.length];
                    r.routing().routeAll(logits, r.tokens(), r.experts(), r.bias(), r.used(), ids, weights);
                    ctx.upload(ids, ids.length, p(out[0]));
                    own(out[0]).hostIds = ids;
                    ctx.upload(weights, 0, weights.length, p(out[1]));
                }
                case Op.MatMulExperts e -> matmulExperts(s, e, own(in[0]), own(in[1]), p(out[0]));
                case Op.MoeCombine c -> m.launch("moe_combine_f32", LaunchGeometry.perRow(c.tokens()), new CudaModules.Args()
                        .ptr(p(in[0])).ptr(p(in[1])).ptr(p(out[0])).i32(c.used()).i32(c.dim()));
                case Op.TakeRows t -> t.forEachRun((from, to, at) -> ctx.copyAsync(p(in[0]).withByteOffset(4L * from * t.dim()),
                        p(out[0]).withByteOffset(4L * at * t.dim()), 4L * (to - from) * t.dim()));
                case Op.Input i -> throw new IllegalStateException("graph inputs are made on the host, not on " + device.name());
                case Op.Output o -> throw new IllegalStateException("the logits are read on the host, not on " + device.name());
            }
        }
    }

    /** Each head's rows of x gathered into a packed block, multiplied by the head's matrix, scattered to y. */
    private static void matmulHeads(CudaDevice.State s, Op.MatMulHeads h, CUdeviceptr x, CUdeviceptr y) {
        int k = Math.toIntExact(h.w().rowLength());
        int tokens = h.tokens(), heads = h.heads(), rows = h.rows();
        CUdeviceptr xh = s.scratch().get(GATHER_X, 4L * tokens * k);
        CUdeviceptr yh = s.scratch().get(GATHER_Y, 4L * tokens * rows);
        for (int head = 0; head < heads; head++) {
            s.ctx().copy2dAsync(x.withByteOffset(4L * head * k), 4L * heads * k, xh, 4L * k, 4L * k, tokens);
            CudaKernels.matmul(s, h.w(), h.offset() + head * h.stride(), rows, xh, yh, tokens);
            s.ctx().copy2dAsync(yh, 4L * rows, y.withByteOffset(4L * head * rows), 4L * heads * rows, 4L * rows, tokens);
        }
    }

    /** mul_mat_id: the pairs grouped by expert, their inputs gathered, one matmul per expert, results scattered. */
    private static void matmulExperts(CudaDevice.State s, Op.MatMulExperts e, CudaBuffer x, CudaBuffer ids, CUdeviceptr y) {
        int pairs = e.tokens() * e.used();
        int[] expert = ids.hostIds;
        if (expert == null || expert.length < pairs) {
            expert = new int[pairs];
            s.ctx().download(ids.ptr, expert, pairs);
            ids.hostIds = expert;
        }
        int[] input = new int[pairs];
        for (int p = 0; p < pairs; p++) input[p] = e.perPair() ? p : p / e.used();
        ExpertPairs g = ExpertPairs.of(e.w(), e.rows(), expert, input, pairs, e.perPair() ? pairs : e.tokens());
        int k = Math.toIntExact(e.w().rowLength());
        int[] from = new int[pairs], to = new int[pairs];
        for (int i = 0; i < pairs; i++) {
            to[i] = g.pair(i);
            from[i] = g.input(to[i]);
        }
        CUdeviceptr fromRows = s.scratch().get(ROWS_A, 4L * pairs), toRows = s.scratch().get(ROWS_B, 4L * pairs);
        s.ctx().upload(from, pairs, fromRows);
        s.ctx().upload(to, pairs, toRows);
        CUdeviceptr gx = s.scratch().get(IN_A, 4L * pairs * k), gy = s.scratch().get(OUT, 4L * pairs * e.rows());
        CUdeviceptr none = new CUdeviceptr();
        s.modules().launch("copy_rows_f32", LaunchGeometry.perRow(pairs), new CudaModules.Args().ptr(x.ptr).ptr(fromRows).ptr(gx).ptr(none).i32(k));
        CudaWeights.Placed placed = s.weights().find(e.w());
        for (int grp = 0; grp < g.groups(); grp++) {
            long first = (long) g.expert(grp) * e.rows();
            // A host weight (op offload) streams only the chosen experts' rows, one expert at a time.
            CudaWeights.Placed w = placed != null ? placed : stream(s, e.w(), first, e.rows());
            CudaKernels.matmul(s, w, e.w().name(), placed != null ? first : 0, e.rows(), gx.withByteOffset(4L * g.start(grp) * k),
                    gy.withByteOffset(4L * g.start(grp) * e.rows()), g.size(grp));
        }
        s.modules().launch("copy_rows_f32", LaunchGeometry.perRow(pairs), new CudaModules.Args().ptr(gy).ptr(none).ptr(y).ptr(toRows).i32(e.rows()));
    }

    /** Types a streamed weight may have: the ones the matvec and dequant kernels read as they are. */
    static boolean streamable(GgmlType t) {
        return KernelTypes.runsNatively(t);
    }

    /**
     * Rows {@code [first, first + rows)} of a host weight copied to the STREAM scratch (op offload). The copy
     * waits for the stream first, so the previous streamed weight's matmul is done with the scratch.
     */
    private static CudaWeights.Placed stream(CudaDevice.State s, Tensor w, long first, int rows) {
        long rowBytes = w.rowBytes();
        long bytes = rowBytes * rows;
        CUdeviceptr ptr = s.scratch().get(STREAM, bytes);
        s.ctx().upload(w.data().asSlice(first * rowBytes, bytes), ptr);
        return new CudaWeights.Placed(ptr, w.type(), rowBytes, Math.toIntExact(w.rowLength()), rows, bytes);
    }

    /** Whether this device stores the cache's rows itself (F16 and F32 have a device encoder). */
    static boolean storesOnDevice(KvCache c) {
        return encodable(c.keyType()) && (c.isLatent() || encodable(c.valueType()));
    }

    static boolean encodable(GgmlType t) {
        return t == GgmlType.F16 || t == GgmlType.F32;
    }

    private static void storeKv(CudaDevice.State s, Op.KvStore k, Buffer[] in) {
        CUdeviceptr keys = ((CudaBuffer) in[0]).ptr;
        CUdeviceptr values = in.length > 1 ? ((CudaBuffer) in[1]).ptr : null;
        for (KvSpan sp : k.spans()) {
            KvCache c = sp.cache();
            int kRow = c.keyRowElements(), vRow = c.valueRowElements();
            CUdeviceptr ks = keys.withByteOffset(4L * sp.row0() * kRow);
            CUdeviceptr vs = values == null ? null : values.withByteOffset(4L * sp.row0() * vRow);
            if (storesOnDevice(c)) {
                KvMirrors.Layer l = s.kv().forStore(c, k.layer(), sp.pos0(), sp.tokens());
                encodeRows(s, ks, c.keyType(), l.k().withByteOffset(sp.pos0() * KvMirrors.rowBytesK(c)), sp.tokens() * kRow);
                if (!c.isLatent()) {
                    encodeRows(s, vs, c.valueType(), l.v().withByteOffset(sp.pos0() * KvMirrors.rowBytesV(c)), sp.tokens() * vRow);
                }
            } else {
                float[] kh = new float[sp.tokens() * kRow];
                s.ctx().download(ks, kh, 0, kh.length);
                float[] vh = null;
                if (!c.isLatent()) {
                    vh = new float[sp.tokens() * vRow];
                    s.ctx().download(vs, vh, 0, vh.length);
                }
                c.store(k.layer(), sp.pos0(), sp.tokens(), kh, vh);
            }
        }
    }

    private static void encodeRows(CudaDevice.State s, CUdeviceptr src, GgmlType type, CUdeviceptr dst, int n) {
        if (type == GgmlType.F32) {
            s.ctx().copyAsync(src, dst, 4L * n);
        } else {
            s.modules().launch("f32_to_f16", LaunchGeometry.elementwise(n), new CudaModules.Args().ptr(src).ptr(dst).i32(n));
        }
    }

    /** Span by span: each sequence's queries over its own cache, at its rows of q and out. */
    private static void attention(CudaDevice.State s, Op.Attention j, CUdeviceptr q, CUdeviceptr out) {
        for (KvSpan sp : j.spans()) {
            KvCache c = sp.cache();
            CudaKernels.checkAttention(c, j.headDimK(), j.headDimV());
            KvMirrors.Layer kv = storesOnDevice(c) ? s.kv().layer(c, j.layer()) : s.kv().sync(c, j.layer(), sp.pos0(), sp.tokens());
            CudaKernels.launchAttention(s, kv, c, q.withByteOffset(4L * sp.row0() * j.nHead() * j.headDimK()),
                    out.withByteOffset(4L * sp.row0() * j.nHead() * j.headDimV()), sp.pos0(), sp.tokens(), j.nHead(), j.nHeadKv(),
                    j.headDimK(), j.headDimV(), j.scale());
        }
    }
}
