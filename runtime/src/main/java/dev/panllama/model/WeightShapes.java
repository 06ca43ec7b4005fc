package dev.panllama.model;

import dev.panllama.gguf.TensorSource;
import dev.panllama.tensor.Tensor;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * Looks weights up by llama.cpp's tensor names and checks their shapes, so a wrong or incomplete file
 * fails at load with the tensor's name and both shapes. Remembers which tensors it handed out, so that
 * {@link HyperparameterChecks#allTensorsUsed} can refuse a file with tensors the model does not use.
 */
final class WeightShapes {
    private final TensorSource source;
    private final Set<String> used = new HashSet<>();

    WeightShapes(TensorSource source) {
        this.source = source;
    }

    TensorSource source() { return source; }

    /** The names of the tensors looked up so far. */
    Set<String> used() { return used; }

    Tensor require(String name) {
        Tensor t = source.findTensor(name).orElseThrow(() -> new IllegalArgumentException("missing tensor '" + name + "'"));
        used.add(name);
        return t;
    }

    Tensor matrix(String name, long ne0, long ne1) {
        return check(require(name), ne0, ne1, 1);
    }

    Tensor tensor3(String name, long ne0, long ne1, long ne2) {
        return check(require(name), ne0, ne1, ne2);
    }

    /** A 1-d tensor (norm, bias) decoded to floats. */
    float[] vector(String name, long n) {
        return check(require(name), n, 1, 1).toFloatArray();
    }

    private static Tensor check(Tensor t, long ne0, long ne1, long ne2) {
        if (t.ne(0) != ne0 || t.ne(1) != ne1 || t.ne(2) != ne2 || t.ne(3) != 1) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                    + ", expected [" + ne0 + ", " + ne1 + (ne2 > 1 ? ", " + ne2 : "") + "]");
        }
        return t;
    }
}
