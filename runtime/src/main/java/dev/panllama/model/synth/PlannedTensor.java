package dev.panllama.model.synth;

import dev.panllama.tensor.GgmlType;

import java.util.List;

/**
 * One tensor of a synthetic model: name, type, shape (ne0 first), and whether it is an RMS-norm weight
 * (values around 1) or a matrix or bias (values around 0).
 */
record PlannedTensor(String name, GgmlType type, long[] shape, boolean norm) {

    long elements() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    long bytes() { return type.rowBytes(shape[0]) * (elements() / shape[0]); }

    /** A matrix of {@code type}, or F16 when its rows are not whole blocks of the type. */
    static PlannedTensor matrix(GgmlType type, String name, long... shape) {
        GgmlType t = shape[0] % type.blockSize() == 0 ? type : GgmlType.F16;
        return new PlannedTensor(name, t, shape, false);
    }

    /**
     * A block's feed-forward as llama.cpp names it: {@code <b>ffn_gate<tag>}, {@code ffn_up<tag>} (embd to ff)
     * and {@code ffn_down<tag>} (ff to embd), tag "" (dense), "_shexp" (shared experts) or "_exps" with
     * the expert count as a third dimension.
     */
    static void feedForward(List<PlannedTensor> t, GgmlType type, String b, String tag, long embd, long ff, long... experts) {
        t.add(matrix(type, b + "ffn_gate" + tag + ".weight", with(experts, embd, ff)));
        t.add(matrix(type, b + "ffn_up" + tag + ".weight", with(experts, embd, ff)));
        t.add(matrix(type, b + "ffn_down" + tag + ".weight", with(experts, ff, embd)));
    }

    private static long[] with(long[] experts, long ne0, long ne1) {
        long[] shape = new long[2 + experts.length];
        shape[0] = ne0;
        shape[1] = ne1;
        System.arraycopy(experts, 0, shape, 2, experts.length);
        return shape;
    }

    static PlannedTensor norm(String name, long n) {
        return new PlannedTensor(name, GgmlType.F32, new long[]{n}, true);
    }

    /** A small F32 tensor (router, bias), never quantized, as llama-quantize leaves them. */
    static PlannedTensor f32(String name, long... shape) {
        return new PlannedTensor(name, GgmlType.F32, shape, false);
    }
}
