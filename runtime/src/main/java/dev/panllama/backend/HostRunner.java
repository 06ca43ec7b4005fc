package dev.panllama.backend;

import dev.panllama.graph.KvSpan;
import dev.panllama.graph.Node;
import dev.panllama.graph.Op;
import dev.panllama.graph.Slot;

import java.util.Arrays;

/**
 * Runs graph nodes on a host device with its {@link Kernels}, over Java arrays the device owns.
 * Activations stay heap {@code float[]}s: every CPU kernel reads and writes them directly, and a value
 * that moves to another device is copied once by the scheduler.
 *
 * <p>Each buffer must belong to this device: a node reading another device's buffer without a copy
 * fails here rather than silently sharing host memory, so that host devices behave like devices with
 * memory of their own and split schedules are checked on any machine.
 */
public final class HostRunner implements DeviceRunner {
    private final Device device;
    private final Kernels kernels;
    private int[] perToken = new int[0], perPair = new int[0];
    private int perTokenUsed;

    public HostRunner(Device device) {
        this.device = device;
        this.kernels = device.kernels();
    }

    @Override
    public Buffer allocate(Slot slot, int capacity, boolean ints) {
        return HostBuffer.of(device, capacity, ints);
    }

    @Override
    public void copy(Buffer src, Buffer dst, int length) {
        HostBuffer s = (HostBuffer) src, d = (HostBuffer) dst;
        if (s.floats() != null) System.arraycopy(s.floats(), 0, d.floats(), 0, length);
        else System.arraycopy(s.ints(), 0, d.ints(), 0, length);
    }

    private HostBuffer own(Buffer b) {
        if (b.device() != device) {
            throw new IllegalStateException(device.name() + " was given a buffer of " + b.device().name() + " without a copy");
        }
        return (HostBuffer) b;
    }

    private float[] f(Buffer b) { return own(b).floats(); }

    private int[] ints(Buffer b) { return own(b).ints(); }

    @Override
    public void run(Node node, Buffer[] in, Buffer[] out) {
        switch (node.op()) {
            case Op.Embed e -> e.decode(f(out[0]));
            case Op.Input i -> System.arraycopy(i.values(), 0, f(out[0]), 0, node.output(0).length());
            case Op.RmsNorm r -> kernels.rmsnorm(f(in[0]), r.weight(), f(out[0]), r.rows(), r.dim(), r.eps());
            case Op.MatMul m -> {
                MatmulTap.observe(m.w(), f(in[0]), m.tokens());
                kernels.matmul(m.w(), f(in[0]), f(out[0]), m.tokens());
            }
            case Op.MatMulHeads m -> kernels.matmulHeads(m.w(), m.offset(), m.stride(), m.rows(), m.heads(), f(in[0]), f(out[0]), m.tokens());
            case Op.AddBias a -> {
                float[] x = same(in[0], out[0]);
                float[] bias = a.bias();
                for (int t = 0; t < a.tokens(); t++) {
                    int o = t * bias.length;
                    for (int i = 0; i < bias.length; i++) x[o + i] += bias[i];
                }
            }
            case Op.Rope r -> kernels.rope(same(in[0], out[0]), r.tokens(), r.heads(), r.headDim(), r.nRot(), f(in[1]), r.neox());
            case Op.SwiGlu s -> kernels.swiglu(same(in[0], out[0]), f(in[1]), s.n());
            case Op.Add a -> {
                if (out[0] == in[0]) kernels.add(f(in[0]), f(in[1]), a.n());
                else kernels.add(same(in[1], out[0]), f(in[0]), a.n());     // float addition commutes: b + a == a + b
            }
            case Op.SliceCols s -> {
                float[] src = f(in[0]), dst = f(out[0]);
                for (int r = 0; r < s.rows(); r++) System.arraycopy(src, r * s.stride() + s.off(), dst, r * s.len(), s.len());
            }
            case Op.ConcatCols c -> {
                float[] a = f(in[0]), b = f(in[1]), dst = f(out[0]);
                int w = c.la() + c.lb();
                for (int r = 0; r < c.rows(); r++) {
                    System.arraycopy(a, r * c.la(), dst, r * w, c.la());
                    System.arraycopy(b, r * c.lb(), dst, r * w + c.la(), c.lb());
                }
            }
            case Op.KvStore s -> {
                for (KvSpan sp : s.spans()) sp.cache().store(s.layer(), sp.pos0(), sp.tokens(), f(in[0]), in.length > 1 ? f(in[1]) : null, sp.row0());
            }
            case Op.Attention a -> attention(a, f(in[0]), f(out[0]));
            case Op.Route r -> r.routing().routeAll(f(in[0]), r.tokens(), r.experts(), r.bias(), r.used(), ints(out[0]), f(out[1]));
            case Op.MatMulExperts m -> {
                int pairs = m.tokens() * m.used();
                int[] inputs = pairInputs(pairs, m.perPair() ? 1 : m.used());
                kernels.matmulExperts(m.w(), m.rows(), ints(in[1]), inputs, pairs, f(in[0]), m.perPair() ? pairs : m.tokens(), f(out[0]));
            }
            case Op.MoeCombine c -> combine(c, f(in[0]), f(in[1]), f(out[0]));
            case Op.TakeRows t -> {
                float[] src = f(in[0]), dst = f(out[0]);
                t.forEachRun((from, to, at) -> System.arraycopy(src, from * t.dim(), dst, at * t.dim(), (to - from) * t.dim()));
            }
            case Op.Output o -> System.arraycopy(f(in[0]), 0, o.logits(), 0, o.length());
        }
    }

    /**
     * Attention span by span. The kernels take a batch's queries from row 0: a span of a batch of several
     * sequences has its rows copied in and its results copied out (one row per sequence while generating).
     */
    private void attention(Op.Attention a, float[] q, float[] out) {
        int qRow = a.nHead() * a.headDimK(), oRow = a.nHead() * a.headDimV();
        for (KvSpan sp : a.spans()) {
            boolean whole = sp.row0() == 0;
            float[] qs = whole ? q : Arrays.copyOfRange(q, sp.row0() * qRow, (sp.row0() + sp.tokens()) * qRow);
            float[] os = whole ? out : new float[sp.tokens() * oRow];
            kernels.attention(new AttentionKernel.Job(qs, os, sp.cache(), a.layer(), sp.pos0(), sp.tokens(),
                    a.nHead(), a.nHeadKv(), a.headDimK(), a.headDimV(), a.scale()));
            if (!whole) System.arraycopy(os, 0, out, sp.row0() * oRow, sp.tokens() * oRow);
        }
    }

    /** An in-place op's buffer: its output is its first input's. */
    private float[] same(Buffer in, Buffer out) {
        if (in != out) throw new IllegalStateException("an in-place op was given different input and output buffers");
        return f(out);
    }

    /** Input row of each pair: its token ({@code p / used}), or the pair itself ({@code used == 1}); kept between calls. */
    private int[] pairInputs(int pairs, int used) {
        if (used == 1) {
            if (perPair.length < pairs) {
                perPair = new int[pairs];
                for (int p = 0; p < pairs; p++) perPair[p] = p;
            }
            return perPair;
        }
        if (perToken.length < pairs || perTokenUsed != used) {
            perToken = new int[Math.max(pairs, perToken.length)];
            perTokenUsed = used;
            for (int p = 0; p < perToken.length; p++) perToken[p] = p / used;
        }
        return perToken;
    }

    /** {@code out[t] = sum_j w[t,j] * y[t*used + j]}, adding the slots in order as llama.cpp's build_moe_ffn adds its views. */
    private static void combine(Op.MoeCombine c, float[] y, float[] weights, float[] out) {
        int dim = c.dim(), used = c.used();
        for (int t = 0; t < c.tokens(); t++) {
            int o = t * dim;
            for (int j = 0; j < used; j++) {
                int p = t * used + j;
                float wgt = weights[p];
                int d = p * dim;
                if (j == 0) {
                    for (int i = 0; i < dim; i++) out[o + i] = wgt * y[d + i];
                } else {
                    for (int i = 0; i < dim; i++) out[o + i] += wgt * y[d + i];
                }
            }
        }
    }
}
