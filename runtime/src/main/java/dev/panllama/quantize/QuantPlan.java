package dev.panllama.quantize;

import java.util.List;

/**
 * The per-tensor plan of a quantization, in output order, with the warnings planning raised (a
 * missing imatrix entry, a type fallback).
 */
public record QuantPlan(QuantizeOptions options, ModelFacts model, List<TensorPlan> tensors, List<String> warnings) {

    public QuantPlan {
        tensors = List.copyOf(tensors);
        warnings = List.copyOf(warnings);
    }

    public long bytesBefore() {
        return tensors.stream().mapToLong(TensorPlan::bytesBefore).sum();
    }

    public long bytesAfter() {
        return tensors.stream().mapToLong(TensorPlan::bytesAfter).sum();
    }

    public long elementCount() {
        return tensors.stream().mapToLong(TensorPlan::elementCount).sum();
    }

    /** The tensors that need --allow-requantize. */
    public List<TensorPlan> requantized() {
        return tensors.stream().filter(TensorPlan::isRequantize).toList();
    }

    /** The plan of {@code name}; fails when the model has no such tensor. */
    public TensorPlan tensor(String name) {
        return tensors.stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no tensor " + name + " in the plan"));
    }
}
