package dev.panllama.graph;

import dev.panllama.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A forward pass as a list of nodes in execution order (ggml's cgraph), built by an architecture for
 * one micro-batch. The methods below add one node each and return the value it writes; the value's
 * name and slot come from the caller, so that a printed graph reads like the architecture's code.
 */
public final class Graph {
    private final List<Node> nodes = new ArrayList<>();
    private int values;

    public List<Node> nodes() { return Collections.unmodifiableList(nodes); }

    public int valueCount() { return values; }

    public Value f32(String name, Slot slot, int length) {
        return new Value(values++, name, slot, length, false);
    }

    public Value i32(String name, Slot slot, int length) {
        return new Value(values++, name, slot, length, true);
    }

    public Node add(Op op, List<Value> inputs, List<Value> outputs) {
        Node n = new Node(nodes.size(), op, List.copyOf(inputs), List.copyOf(outputs));
        nodes.add(n);
        return n;
    }

    private Value one(Op op, List<Value> inputs, Value out) {
        add(op, inputs, List.of(out));
        return out;
    }

    public Value embed(Tensor table, int[] tokens, int off, int n, int dim) {
        return one(new Op.Embed(table, tokens, off, n), List.of(), f32("inp_embd", Slot.RESIDUAL, n * dim));
    }

    public Value input(String name, Slot slot, float[] values, int length) {
        return one(new Op.Input(values), List.of(), f32(name, slot, length));
    }

    public Value rmsNorm(Value x, String weightName, float[] weight, int rows, int dim, float eps, String name, Slot slot) {
        return one(new Op.RmsNorm(weightName, weight, rows, dim, eps), List.of(x), f32(name, slot, rows * dim));
    }

    public Value matmul(Tensor w, Value x, int tokens, String name, Slot slot) {
        return matmul(w, w.name(), x, tokens, name, slot);
    }

    public Value matmul(Tensor w, String placedBy, Value x, int tokens, String name, Slot slot) {
        return one(new Op.MatMul(w, tokens, placedBy), List.of(x), f32(name, slot, Math.multiplyExact(tokens, Math.toIntExact(w.rows()))));
    }

    public Value matmulHeads(Tensor w, String placedBy, long offset, long stride, int rows, int heads, Value x, int tokens,
                             String name, Slot slot) {
        return one(new Op.MatMulHeads(w, offset, stride, rows, heads, tokens, placedBy), List.of(x), f32(name, slot, tokens * heads * rows));
    }

    public Value addBias(Value x, String biasName, float[] bias, int tokens) {
        return one(new Op.AddBias(biasName, bias, tokens), List.of(x), f32(x.name() + "+b", x.slot(), x.length()));
    }

    public Value rope(Value x, Value angles, int tokens, int heads, int headDim, int nRot, boolean neox) {
        return one(new Op.Rope(tokens, heads, headDim, nRot, neox), List.of(x, angles), f32(x.name() + "_rope", x.slot(), x.length()));
    }

    public Value swiglu(Value gate, Value up, String name) {
        return one(new Op.SwiGlu(gate.length()), List.of(gate, up), f32(name, gate.slot(), gate.length()));
    }

    /** {@code a + b} into {@code slot}, which must be a's or b's (the add runs in place). */
    public Value add(Value a, Value b, String name, Slot slot) {
        if (slot != a.slot() && slot != b.slot()) throw new IllegalArgumentException("add writes into one of its inputs' slots, not " + slot);
        return one(new Op.Add(a.length()), List.of(a, b), f32(name, slot, a.length()));
    }

    public Value sliceCols(Value src, int rows, int stride, int off, int len, String name, Slot slot) {
        return one(new Op.SliceCols(rows, stride, off, len), List.of(src), f32(name, slot, rows * len));
    }

    public Value concatCols(Value a, Value b, int rows, String name, Slot slot) {
        int la = a.length() / rows, lb = b.length() / rows;
        return one(new Op.ConcatCols(rows, la, lb), List.of(a, b), f32(name, slot, rows * (la + lb)));
    }

    /** @param v null for a latent cache */
    public void kvStore(List<KvSpan> spans, int layer, String placedBy, Value k, Value v) {
        add(new Op.KvStore(spans, layer, placedBy), v == null ? List.of(k) : List.of(k, v), List.of());
    }

    public Value attention(Op.Attention op, Value q, String name, Slot slot) {
        return one(op, List.of(q), f32(name, slot, op.tokens() * op.nHead() * op.headDimV()));
    }

    /** Returns {ids, weights}. */
    public Value[] route(Value logits, ExpertRouting routing, float[] bias, int tokens, int experts, int used, String layer) {
        Value ids = i32(layer + "ffn_moe_topk", Slot.EXPERT_IDS, tokens * used);
        Value weights = f32(layer + "ffn_moe_weights", Slot.EXPERT_WEIGHTS, tokens * used);
        add(new Op.Route(routing, bias, tokens, experts, used), List.of(logits), List.of(ids, weights));
        return new Value[]{ids, weights};
    }

    public Value matmulExperts(Tensor w, int rows, Value x, Value ids, int tokens, int used, boolean perPair, String name, Slot slot) {
        return one(new Op.MatMulExperts(w, rows, tokens, used, perPair), List.of(x, ids), f32(name, slot, tokens * used * rows));
    }

    public Value moeCombine(Value experts, Value weights, int tokens, int used, int dim, String name, Slot slot) {
        return one(new Op.MoeCombine(tokens, used, dim), List.of(experts, weights), f32(name, slot, tokens * dim));
    }

    public Value takeRows(Value x, int[] rows, int dim, String name, Slot slot) {
        return one(new Op.TakeRows(rows.clone(), dim), List.of(x), f32(name, slot, rows.length * dim));
    }

    public void output(Value logits, float[] dst) {
        add(new Op.Output(dst, logits.length()), List.of(logits), List.of());
    }
}
