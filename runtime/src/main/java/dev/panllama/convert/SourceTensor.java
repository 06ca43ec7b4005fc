package dev.panllama.convert;

import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;

import java.util.Arrays;

/**
 * One tensor of a model being converted, under its llama.cpp name and GGUF shape ({@code ne0} first).
 *
 * @param rows     its values as float rows in GGUF order, permuted, stacked and scaled as llama.cpp's
 *                 converter would
 * @param lossless the float type that holds the source values without loss (F32, F16 or BF16; BF16 for
 *                 FP8 weights), what a weight that cannot stay as it is becomes when nothing else is asked
 * @param asIs     the stored tensor, when its bytes already are this GGUF tensor (nothing to permute,
 *                 stack or scale), else null
 * @param fp8      the raw E4M3 bytes and scales of an E4M3 weight, else null
 * @param scaledFp8 whether the source is an FP8 weight (E4M3 or E5M2) whose rows fold in its scales
 */
public record SourceTensor(String name, long[] shape, FloatRows rows, GgmlType lossless, Tensor asIs, Fp8Weight fp8,
                           boolean scaledFp8) {

    public SourceTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() { return shape.clone(); }

    public long ne0() { return shape[0]; }

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    @Override
    public String toString() {
        return name + " " + Arrays.toString(shape);
    }
}
