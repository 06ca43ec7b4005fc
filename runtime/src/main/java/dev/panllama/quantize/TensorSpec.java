package dev.panllama.quantize;

import dev.panllama.tensor.GgmlType;

/** A tensor's name, type and shape: all the planner needs to know about it. */
public record TensorSpec(String name, GgmlType type, long[] shape) {

    public TensorSpec {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** ggml_n_dims: the number of dimensions up to the last one larger than 1 (at least 1). */
    public int effectiveDims() {
        int n = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] > 1) n = i + 1;
        }
        return n;
    }
}
